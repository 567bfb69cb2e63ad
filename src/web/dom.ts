/**
 * The only way views build DOM: elements from tag names, text through text nodes, attributes
 * through setAttribute with a deny list. There is no HTML-string path at all, so a message,
 * a name or a card can never become markup (the CSP's Trusted Types rule backs this up).
 */

/** Something that can be appended as a child: nodes, or strings that become text nodes. */
export type Child = Node | string | null | undefined | false;

/** Attributes and listeners of `h`; `on*` keys take functions, the rest strings/booleans. */
export type Props = Record<string, string | number | boolean | undefined | ((event: never) => void)>;

/**
 * Creates an element. `class` sets the class list; booleans toggle presence; `onclick`-style
 * keys add event listeners. Inline styles and string event handlers are refused because the
 * CSP forbids them and they are where injected markup would run.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') {
      if (!key.startsWith('on')) throw new TypeError(`"${key}" takes a string, not a function`);
      el.addEventListener(key.slice(2), value as EventListener);
      continue;
    }
    if (key === 'style' || key.startsWith('on') || key === 'srcdoc') {
      throw new TypeError(`"${key}" is not allowed: build DOM, not markup`);
    }
    el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, ...children);
  return el;
}

/** Appends children, turning strings into text nodes. */
export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

/** Replaces all children of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** An SVG element (for the QR code and icons), attributes set one by one. */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
  ...children: SVGElement[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'style' || key.startsWith('on')) throw new TypeError(`"${key}" is not allowed`);
    el.setAttribute(key, String(value));
  }
  for (const c of children) el.appendChild(c);
  return el;
}

let idCounter = 0;

/** A document-unique id for label/aria wiring. */
export function uid(prefix: string): string {
  return `${prefix}-${++idCounter}`;
}

/** A labelled form field: label, control, and a hint/error line wired with aria-describedby. */
export function field(
  label: string,
  control: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement,
  hint?: string,
): { row: HTMLDivElement; error: HTMLParagraphElement } {
  control.id ||= uid('f');
  const error = h('p', { class: 'field-error', id: uid('err'), role: 'alert' });
  const hintEl = hint === undefined ? null : h('p', { class: 'hint', id: uid('hint') }, hint);
  control.setAttribute('aria-describedby', [hintEl?.id, error.id].filter(Boolean).join(' '));
  const row = h('div', { class: 'field' }, h('label', { for: control.id }, label), control, hintEl, error);
  return { row, error };
}

/** Error text for the user from anything thrown (typed errors carry their own words). */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : 'Something went wrong';
}

/** Offers a Blob as a file download (no server involved). */
export function downloadFile(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

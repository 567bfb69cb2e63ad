/**
 * Updating rendered rows in place. A click is a press and a release, and the browser fires
 * `click` only on an element both landed on (UI Events, "click": the nearest common
 * ancestor); a row, button or link swapped for a fresh copy between the two loses the
 * click, and one taken out of the document loses focus. So a redraw here keeps every node
 * that is still wanted where it is, changes only what differs, and never detaches a node it
 * keeps.
 */

/**
 * Sets `parent`'s children to `wanted`, in that order, moving or removing only the nodes out
 * of place: a node that stays in order is never detached.
 */
export function placeChildren(parent: Element, wanted: readonly Node[]): void {
  const keep = new Set(wanted);
  for (const n of [...parent.childNodes]) if (!keep.has(n)) n.remove();
  let cursor = parent.firstChild;
  for (const n of wanted) {
    if (n === cursor) {
      cursor = cursor.nextSibling;
      continue;
    }
    parent.insertBefore(n, cursor);
  }
}

/**
 * Makes `old` look like `next` (a fresh rendering of the same thing), keeping `old` and each
 * of its descendants that `next` still has in the same role. A control (button, link, input)
 * is kept only when its label is the same, since the listener it carries was attached for
 * that label; one whose label changed is replaced by `next`'s, listener and all.
 */
export function morph(old: Element, next: Element): void {
  for (const a of [...old.attributes]) if (!next.hasAttribute(a.name)) old.removeAttribute(a.name);
  for (const a of next.attributes)
    if (old.getAttribute(a.name) !== a.value) old.setAttribute(a.name, a.value);
  const olds = [...old.childNodes];
  const wanted: Node[] = [];
  let from = 0;
  for (const n of [...next.childNodes]) {
    let match = -1;
    for (let i = from; i < olds.length; i++)
      if (sameRole(olds[i]!, n)) {
        match = i;
        break;
      }
    if (match < 0) {
      wanted.push(n);
      continue;
    }
    const o = olds[match]!;
    from = match + 1;
    if (o instanceof Element && n instanceof Element) morph(o, n);
    else if (o.nodeValue !== n.nodeValue) o.nodeValue = n.nodeValue;
    wanted.push(o);
  }
  placeChildren(old, wanted);
}

const CONTROLS = new Set(['BUTTON', 'A', 'INPUT', 'SELECT', 'TEXTAREA', 'IMG', 'VIDEO', 'AUDIO']);

/** Whether `o` can be updated to be `n`. */
function sameRole(o: Node, n: Node): boolean {
  if (o.nodeType !== n.nodeType) return false;
  if (!(o instanceof Element) || !(n instanceof Element)) return true;
  if (o.tagName !== n.tagName) return false;
  if (!CONTROLS.has(o.tagName)) return true;
  // Same control: same label, or same target for links and media.
  return (
    o.getAttribute('aria-label') === n.getAttribute('aria-label') &&
    o.getAttribute('href') === n.getAttribute('href') &&
    o.getAttribute('src') === n.getAttribute('src') &&
    (o.hasAttribute('aria-label') || o.tagName === 'A' || o.textContent === n.textContent)
  );
}

/** Deep equality of plain view data (what the engine hands over: no cycles, no classes). */
export function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka)
    if (!sameData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}

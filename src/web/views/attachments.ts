/**
 * A conversation's attachments (issue 14): the composer's attach button, drag-and-drop and
 * paste onto the conversation, and one row per attachment with its progress, Cancel, and,
 * once verified, a thumbnail that opens full size (images) or a Save button (other files).
 * A refused file shows its reason here; nothing else in the conversation changes.
 *
 * An attachment is a message of the conversation (docs/protocol.md "Message record"): its
 * bubble holds what `content` draws (the same as a row), with the ticks and proof of any
 * message around it; a row is shown here only for an attachment whose message is not drawn.
 *
 * A file to a contact who is offline waits until they are online (free, the default). Its
 * row says so and offers to send it now the paid way, with the cost in the app's own terms
 * first ("uses about N of your secure messages", chain-plan.ts) and the offline size limit;
 * "Wait until online" keeps the default.
 */
import type { AttachmentCostView, AttachmentView, ContactId } from '../app-api.ts';
import { downloadFile, errorText, h } from '../dom.ts';
import type { ViewContext } from './view.ts';
import { durationText } from '../../core/attachments/voice.ts';
import { voicePlayer, type VoicePlayer } from './voice-player.ts';

/** Bytes in words, as the limits and rows show them. */
export function sizeText(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return `${n} B`;
}

/** The attachment part of one conversation. */
export interface AttachmentsPart {
  /** The attach button and its hidden file input, for the composer. */
  readonly button: HTMLElement;
  /** The list of attachments and the error line, shown above the composer. */
  readonly list: HTMLElement;
  /** Re-renders one attachment (an `onAttachment` report). */
  update(a: AttachmentView): void;
  /**
   * A fresh drawing of attachment `messageId` for its message's bubble (its row leaves the
   * list); `refresh` is asked to draw the bubble again whenever the attachment changes.
   */
  content(messageId: string): HTMLElement;
  dispose(): void;
}

export function attachmentsPart(
  ctx: ViewContext,
  id: ContactId,
  area: HTMLElement,
  refresh: (messageId: string) => void = () => undefined,
): AttachmentsPart {
  const limits = ctx.api.attachmentLimits();
  const input = h('input', { type: 'file', class: 'attach-input', hidden: true, multiple: true });
  const button = h(
    'button',
    {
      type: 'button',
      class: 'btn attach',
      title: `Attach a file (up to ${sizeText(limits.maxBytes)})`,
      'aria-label': `Attach a file, up to ${sizeText(limits.maxBytes)}`,
    },
    'Attach',
  );
  const error = h('p', { class: 'field-error attach-error', role: 'alert' });
  const rows = h('ul', { class: 'attachments', 'aria-label': 'Attachments' });
  const list = h('div', { class: 'attachments-area' }, rows, error);
  const shown = new Map<string, HTMLElement>();
  /** The latest view of each attachment, and which of them their message's bubble draws. */
  const views = new Map<string, AttachmentView>();
  const inBubble = new Set<string>();
  /** Object URLs of verified images, by attachment id (a bubble is drawn again and again). */
  const images = new Map<string, string>();
  const loading = new Set<string>();
  /** What sending each waiting attachment now costs, or why that is not known. */
  const costs = new Map<string, AttachmentCostView | string>();
  const asked = new Set<string>();
  /** Waiting attachments whose "send now" offer the user dismissed ("Wait until online"). */
  const waiting = new Set<string>();
  const urls = new Set<string>();
  /** Voice note players by attachment id, kept across re-renders so playback goes on. */
  const players = new Map<string, VoicePlayer>();
  let disposed = false;
  /** Whether this conversation's attachments were read (`ctx.api.attachments`). */
  let listed = false;

  const send = async (files: readonly File[]): Promise<void> => {
    error.textContent = '';
    for (const f of files) {
      try {
        const bytes = new Uint8Array(await f.arrayBuffer());
        update(await ctx.api.sendFile(id, { name: f.name, type: f.type, bytes }));
      } catch (e) {
        error.textContent = `${f.name || 'The file'} was not sent: ${errorText(e)}`;
      }
    }
  };

  /** Loads the verified bytes of image `a` once, then draws it again with its thumbnail. */
  const loadImage = (a: AttachmentView): void => {
    if (loading.has(a.id) || images.has(a.id)) return;
    loading.add(a.id);
    ctx.api.attachmentBytes(a.id).then(
      (bytes) => {
        if (disposed) return;
        const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: a.mediaType }));
        urls.add(url);
        images.set(a.id, url);
        redraw(a.id);
      },
      (e: unknown) => {
        loading.delete(a.id);
        error.textContent = `${a.name} is not shown: ${errorText(e)}`;
      },
    );
  };

  const redraw = (aid: string): void => {
    if (inBubble.has(aid)) refresh(aid);
    const a = views.get(aid);
    const row = shown.get(aid);
    if (a !== undefined && row !== undefined) row.replaceChildren(...partsOf(a));
  };

  /** What one attachment shows: name, size and type, then its progress, preview or Save. */
  const partsOf = (a: AttachmentView): HTMLElement[] => {
    const what = h(
      'p',
      { class: 'attach-name' },
      a.kind === 'voice'
        ? `Voice note \u00b7 ${durationText(a.voice?.durationMs ?? 0)} \u00b7 ${sizeText(a.size)}`
        : `${a.name} \u00b7 ${sizeText(a.size)} \u00b7 ${a.mediaType}`,
    );
    const parts: HTMLElement[] = [what];
    if (a.state === 'transferring' && a.direction === 'out' && !a.onChain && a.done === 0)
      parts.push(offer(a));
    if (a.state === 'transferring') {
      parts.push(
        h('progress', { max: a.parts, value: a.done, 'aria-label': `${a.name} progress` }),
        h(
          'button',
          {
            type: 'button',
            class: 'btn attach-cancel',
            onclick: () =>
              void ctx.api.cancelAttachment(a.id).catch((e: unknown) => ctx.announce(errorText(e))),
          },
          'Cancel',
        ),
      );
    }
    // A voice note plays once verified; the sender's own plays while it is still being sent.
    if (
      a.kind === 'voice' &&
      (a.state === 'complete' || (a.state === 'transferring' && a.direction === 'out'))
    ) {
      let player = players.get(a.id);
      if (player === undefined) {
        player = voicePlayer(ctx, a);
        players.set(a.id, player);
      }
      parts.push(player.el);
    } else if (a.state === 'transferring') {
      // Progress and Cancel above.
    } else if (a.state === 'complete' && a.kind === 'image') {
      const url = images.get(a.id);
      if (url === undefined) loadImage(a);
      const img = url === undefined ? null : h('img', { src: url, alt: a.name, class: 'attach-thumb' });
      parts.push(
        h(
          'div',
          { class: 'attach-preview' },
          img === null
            ? h('span', { class: 'hint' }, 'Opening…')
            : h('a', { href: url, target: '_blank', rel: 'noopener', class: 'attach-open' }, img),
        ),
      );
    } else if (a.state === 'complete') {
      parts.push(
        h(
          'button',
          {
            type: 'button',
            class: 'btn attach-save',
            onclick: () =>
              void ctx.api.attachmentBytes(a.id).then(
                (bytes) => downloadFile(a.name, new Blob([bytes as BlobPart], { type: a.mediaType })),
                (e: unknown) => ctx.announce(errorText(e)),
              ),
          },
          'Save',
        ),
      );
    } else {
      parts.push(h('p', { class: 'hint' }, a.state === 'cancelled' ? 'Cancelled' : 'Failed'));
    }
    return parts;
  };

  const update = (a: AttachmentView): void => {
    if (disposed || a.contactId !== id) return;
    // Views are read from the store at different times and may land out of order (sendFile's
    // answer after the receipt that completed the note): an attachment that ended (complete,
    // cancelled, failed) never goes back to transferring, and progress never goes back.
    const known = views.get(a.id);
    if (known !== undefined && known.state !== 'transferring' && a.state === 'transferring') return;
    if (known?.state === 'transferring' && a.state === 'transferring' && a.done < known.done)
      a = { ...a, done: known.done };
    views.set(a.id, a);
    if (inBubble.has(a.id)) {
      refresh(a.id);
      return;
    }
    let row = shown.get(a.id);
    if (row === undefined) {
      row = h('li', { class: `attachment ${a.direction}`, 'data-id': a.id });
      shown.set(a.id, row);
      rows.appendChild(row);
    }
    row.replaceChildren(...partsOf(a));
  };

  const content = (messageId: string): HTMLElement => {
    inBubble.add(messageId);
    shown.get(messageId)?.remove();
    shown.delete(messageId);
    const a = views.get(messageId);
    const box = h('div', {
      class: `attachment ${a?.direction ?? ''}`.trim(),
      'data-id': messageId,
    });
    // Once the list is read, a message without its attachment is one whose file is not on
    // this device: restored from a backup, which holds messages but not files.
    if (a === undefined)
      box.append(
        h(
          'p',
          { class: 'hint attach-missing' },
          listed ? 'This file is not on this device (not in this backup).' : 'Attachment',
        ),
      );
    else box.append(...partsOf(a));
    return box;
  };

  /** The choice of a waiting attachment: "Send now" (paid, its cost shown) or "Wait until online". */
  const offer = (a: AttachmentView): HTMLElement => {
    const box = h('div', { class: 'attach-offline', role: 'group', 'aria-label': `${a.name}: how to send` });
    const note = h('p', { class: 'hint attach-wait' }, 'Waiting until your contact is online.');
    if (waiting.has(a.id)) return h('div', { class: 'attach-offline' }, note);
    if (a.size > limits.maxOfflineBytes) {
      box.append(
        note,
        h(
          'p',
          { class: 'hint' },
          `Files over ${sizeText(limits.maxOfflineBytes)} are sent only while your contact is online.`,
        ),
      );
      return box;
    }
    // The cost is asked once and kept: a bubble is drawn again on every change.
    const known = costs.get(a.id);
    const cost = h(
      'p',
      { class: 'attach-cost' },
      known === undefined
        ? 'Working out what sending it now costs…'
        : typeof known === 'string'
          ? `The cost is not known: ${known}`
          : known.text,
    );
    const now = h(
      'button',
      {
        type: 'button',
        class: 'btn primary attach-send-now',
        disabled: known === undefined || typeof known === 'string' || known.insufficient,
      },
      'Send now',
    );
    const wait = h('button', { type: 'button', class: 'btn attach-wait-online' }, 'Wait until online');
    now.addEventListener('click', () => {
      now.disabled = true;
      ctx.api.sendAttachmentNow(a.id).then(update, (e: unknown) => {
        now.disabled = false;
        error.textContent = `${a.name} was not sent: ${errorText(e)}`;
      });
    });
    wait.addEventListener('click', () => {
      waiting.add(a.id);
      redraw(a.id);
    });
    if (known === undefined && !asked.has(a.id)) {
      asked.add(a.id);
      ctx.api.attachmentCost(a.id).then(
        (c) => {
          costs.set(a.id, c);
          redraw(a.id);
        },
        (e: unknown) => {
          costs.set(a.id, errorText(e));
          redraw(a.id);
        },
      );
    }
    box.append(note, cost, h('div', { class: 'row' }, now, wait));
    return box;
  };

  input.addEventListener('change', () => {
    const files = [...(input.files ?? [])];
    input.value = '';
    void send(files);
  });
  button.addEventListener('click', () => input.click());
  const onDragOver = (e: DragEvent): void => {
    if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
  };
  const onDrop = (e: DragEvent): void => {
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length === 0) return;
    e.preventDefault();
    void send(files);
  };
  const onPaste = (e: ClipboardEvent): void => {
    const files = [...(e.clipboardData?.files ?? [])];
    if (files.length === 0) return;
    e.preventDefault();
    void send(files);
  };
  area.addEventListener('dragover', onDragOver);
  area.addEventListener('drop', onDrop);
  area.addEventListener('paste', onPaste);
  const off = ctx.api.onAttachment(update);
  ctx.api.attachments(id).then(
    (all) => {
      all.forEach(update);
      listed = true;
      for (const aid of inBubble) if (!views.has(aid)) refresh(aid);
    },
    () => undefined,
  );

  return {
    button: h('span', { class: 'attach-wrap' }, button, input),
    list,
    update,
    content,
    dispose() {
      disposed = true;
      off();
      area.removeEventListener('dragover', onDragOver);
      area.removeEventListener('drop', onDrop);
      area.removeEventListener('paste', onPaste);
      for (const u of urls) URL.revokeObjectURL(u);
      for (const p of players.values()) p.dispose();
    },
  };
}

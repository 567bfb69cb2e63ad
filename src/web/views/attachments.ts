/**
 * A conversation's attachments (issue 14): the composer's attach button, drag-and-drop and
 * paste onto the conversation, and one row per attachment with its progress, Cancel, and,
 * once verified, a thumbnail that opens full size (images) or a Save button (other files).
 * A refused file shows its reason here; nothing else in the conversation changes.
 *
 * A file to a contact who is offline waits until they are online (free, the default). Its
 * row says so and offers to send it now the paid way, with the cost in the app's own terms
 * first ("uses about N of your secure messages", chain-plan.ts) and the offline size limit;
 * "Wait until online" keeps the default.
 */
import type { AttachmentView, ContactId } from '../app-api.ts';
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
  dispose(): void;
}

export function attachmentsPart(ctx: ViewContext, id: ContactId, area: HTMLElement): AttachmentsPart {
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
  /** Waiting attachments whose "send now" offer the user dismissed ("Wait until online"). */
  const waiting = new Set<string>();
  const urls = new Set<string>();
  /** Voice note players by attachment id, kept across re-renders so playback goes on. */
  const players = new Map<string, VoicePlayer>();
  let disposed = false;

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

  const preview = (a: AttachmentView, slot: HTMLElement): void => {
    ctx.api.attachmentBytes(a.id).then(
      (bytes) => {
        if (disposed) return;
        const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: a.mediaType }));
        urls.add(url);
        const img = h('img', { src: url, alt: a.name, class: 'attach-thumb' });
        const open = h('a', { href: url, target: '_blank', rel: 'noopener', class: 'attach-open' }, img);
        slot.replaceChildren(open);
      },
      (e: unknown) => {
        slot.textContent = `Not shown: ${errorText(e)}`;
      },
    );
  };

  const update = (a: AttachmentView): void => {
    if (disposed || a.contactId !== id) return;
    let row = shown.get(a.id);
    if (row === undefined) {
      row = h('li', { class: `attachment ${a.direction}`, 'data-id': a.id });
      shown.set(a.id, row);
      rows.appendChild(row);
    }
    const what = h(
      'p',
      { class: 'attach-name' },
      a.kind === 'voice'
        ? `Voice note \u00b7 ${durationText(a.voice?.durationMs ?? 0)} \u00b7 ${sizeText(a.size)}`
        : `${a.name} \u00b7 ${sizeText(a.size)} \u00b7 ${a.mediaType}`,
    );
    const parts: (HTMLElement | string)[] = [what];
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
      const slot = h('div', { class: 'attach-preview' });
      parts.push(slot);
      preview(a, slot);
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
    row.replaceChildren(...parts);
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
    const cost = h('p', { class: 'attach-cost' }, 'Working out what sending it now costs…');
    const now = h(
      'button',
      { type: 'button', class: 'btn primary attach-send-now', disabled: true },
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
      box.replaceChildren(note);
    });
    ctx.api.attachmentCost(a.id).then(
      (c) => {
        cost.textContent = c.text;
        now.disabled = c.insufficient;
      },
      (e: unknown) => {
        cost.textContent = `The cost is not known: ${errorText(e)}`;
      },
    );
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
    (all) => all.forEach(update),
    () => undefined,
  );

  return {
    button: h('span', { class: 'attach-wrap' }, button, input),
    list,
    update,
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

/**
 * The message record, version 2 (docs/protocol.md "Message record"): actions and redactions
 * round-trip, version 1 is still read as a plain message, anything else is CORRUPT_RECORD;
 * and the fold of a conversation (core/messages/fold.ts) on hand-made records.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeMessage,
  encodeMessage,
  type IncomingMessage,
  type Message,
} from '../../../src/core/delivery/messages.ts';
import { DeliveryError } from '../../../src/core/delivery/errors.ts';
import {
  EDIT_WINDOW_MS,
  REACTIONS,
  foldConversation,
  type ActionRecord,
} from '../../../src/core/messages/index.ts';
import { MESSAGE_REACTIONS } from '../../../src/core/envelope/envelope.ts';
import { REACTIONS as APP_REACTIONS } from '../../../src/web/app-api.ts';
import { bytesToUtf8, utf8ToBytes } from '../../../src/util/bytes.ts';

const hex = (n: number): string => n.toString(16).padStart(32, '0');
const incoming = (over: Partial<IncomingMessage> = {}): IncomingMessage => ({
  direction: 'in',
  id: hex(1),
  contact: 'bob',
  sentAt: 1_000,
  text: 'hi',
  receivedAt: 1_001,
  route: 'direct',
  read: false,
  ...over,
});

const corrupt = (o: unknown): string => {
  try {
    decodeMessage(utf8ToBytes(JSON.stringify(o)));
  } catch (e) {
    assert.ok(e instanceof DeliveryError);
    return e.code;
  }
  return 'accepted';
};

describe('message record version 2', () => {
  it('round-trips actions and redactions, and writes the current version (4)', () => {
    const records: Message[] = [
      incoming(),
      incoming({ action: { kind: 'reply', target: hex(9) } }),
      incoming({ action: { kind: 'reaction', target: hex(9), reaction: 6 }, text: '' }),
      incoming({ action: { kind: 'edit', target: hex(9) } }),
      incoming({ action: { kind: 'delete', target: hex(9) }, text: '' }),
      incoming({ action: { kind: 'forwarded' } }),
      incoming({ text: '', redacted: 'deleted' }),
      incoming({ text: '', redacted: 'hidden' }),
    ];
    for (const m of records) {
      const bytes = encodeMessage(m);
      assert.equal(JSON.parse(bytesToUtf8(bytes)).v, 4);
      assert.deepEqual(decodeMessage(bytes), m);
    }
  });

  it('reads version 1 as a plain message and refuses other versions and bad fields', () => {
    const v1 = { ...JSON.parse(bytesToUtf8(encodeMessage(incoming()))), v: 1 };
    assert.deepEqual(decodeMessage(utf8ToBytes(JSON.stringify(v1))), incoming());
    // Version 1 had no actions: one there is ignored, never half-read.
    assert.equal(
      decodeMessage(utf8ToBytes(JSON.stringify({ ...v1, action: { kind: 'x' } }))).action,
      undefined,
    );
    const v2 = { ...v1, v: 2 };
    assert.equal(corrupt({ ...v2, v: 5 }), 'CORRUPT_RECORD');
    assert.equal(corrupt({ ...v2, action: { kind: 'poke', target: hex(1) } }), 'CORRUPT_RECORD');
    assert.equal(corrupt({ ...v2, action: { kind: 'edit', target: 'AB' } }), 'CORRUPT_RECORD');
    assert.equal(
      corrupt({ ...v2, action: { kind: 'reaction', target: hex(1), reaction: 7 } }),
      'CORRUPT_RECORD',
    );
    assert.equal(corrupt({ ...v2, action: 'edit' }), 'CORRUPT_RECORD');
    assert.equal(corrupt({ ...v2, redacted: 'gone' }), 'CORRUPT_RECORD');
  });

  it('has one reaction set in the envelope, the core and the app', () => {
    assert.deepEqual([...REACTIONS], [...MESSAGE_REACTIONS]);
    assert.deepEqual([...APP_REACTIONS], [...MESSAGE_REACTIONS]);
  });
});

describe('folding a conversation', () => {
  const r = (id: number, over: Partial<ActionRecord> & Pick<ActionRecord, 'direction'>): ActionRecord => ({
    id: hex(id),
    sentAt: id * 1_000,
    text: '',
    ...over,
  });

  it('applies the latest allowed edit and reaction per person, and ignores what is not allowed', () => {
    const folded = foldConversation([
      r(1, { direction: 'in', text: 'theirs' }),
      r(2, { direction: 'out', text: 'mine' }),
      r(3, { direction: 'in', text: 'v2', action: { kind: 'edit', target: hex(1) } }),
      r(4, { direction: 'in', text: 'v3', action: { kind: 'edit', target: hex(1) } }),
      // Not allowed: the contact edits our message, we edit theirs, an edit of an edit.
      r(5, { direction: 'in', text: 'forged', action: { kind: 'edit', target: hex(2) } }),
      r(6, { direction: 'out', text: 'forged', action: { kind: 'edit', target: hex(1) } }),
      r(7, { direction: 'in', text: 'forged', action: { kind: 'edit', target: hex(4) } }),
      r(8, { direction: 'out', action: { kind: 'reaction', target: hex(1), reaction: 1 } }),
      r(9, { direction: 'out', action: { kind: 'reaction', target: hex(1), reaction: 2 } }),
      r(10, { direction: 'in', action: { kind: 'reaction', target: hex(1), reaction: 2 } }),
      r(11, { direction: 'in', action: { kind: 'reaction', target: hex(2), reaction: 3 } }),
      r(12, { direction: 'in', action: { kind: 'reaction', target: hex(2), reaction: 0 } }),
      // Past the window: the writer's clock says a day and more.
      r(13, {
        direction: 'out',
        text: 'late',
        action: { kind: 'edit', target: hex(2) },
        sentAt: 2_000 + EDIT_WINDOW_MS + 1,
      }),
    ]);
    assert.equal(folded.length, 2);
    const [theirs, mine] = folded as [(typeof folded)[0], (typeof folded)[0]];
    assert.equal(theirs.text, 'v3');
    assert.equal(theirs.edited, true);
    assert.deepEqual(theirs.reactions, [{ reaction: 2, count: 2, mine: true }]);
    assert.equal(mine.text, 'mine');
    assert.equal(mine.edited, false);
    assert.deepEqual(mine.reactions, []);
  });

  it('deletes only by the writer, hides what was deleted for me, and quotes what it holds', () => {
    const folded = foldConversation([
      r(1, { direction: 'in', text: 'theirs' }),
      r(2, { direction: 'out', text: 'mine' }),
      r(3, { direction: 'in', action: { kind: 'delete', target: hex(2) } }),
      r(4, { direction: 'out', action: { kind: 'delete', target: hex(2) } }),
      r(5, { direction: 'in', text: 'hidden', redacted: 'hidden' }),
      r(6, { direction: 'in', text: 'about yours', action: { kind: 'reply', target: hex(2) } }),
      r(7, { direction: 'in', text: 'about what?', action: { kind: 'reply', target: hex(5) } }),
      r(8, { direction: 'in', text: 'fwd', action: { kind: 'forwarded' } }),
    ]);
    assert.deepEqual(
      folded.map((f) => [f.record.id, f.text, f.deleted]),
      [
        [hex(1), 'theirs', false],
        [hex(2), '', true],
        [hex(6), 'about yours', false],
        [hex(7), 'about what?', false],
        [hex(8), 'fwd', false],
      ],
    );
    assert.deepEqual(folded[2]!.quote, { id: hex(2), held: true, outgoing: true, text: '', deleted: true });
    assert.deepEqual(folded[3]!.quote, { id: hex(5), held: false });
    assert.equal(folded[4]!.forwarded, true);
  });
});

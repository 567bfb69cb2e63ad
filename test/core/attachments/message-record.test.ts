/**
 * The message record of an attachment (docs/protocol.md "Message record", version 4): round
 * trip, older versions read as no attachment, and every contradiction refused by code.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeliveryError } from '../../../src/core/delivery/errors.ts';
import { decodeMessage, encodeMessage, type Message } from '../../../src/core/delivery/messages.ts';
import { isFinished } from '../../../src/core/delivery/store.ts';
import { utf8ToBytes } from '../../../src/util/bytes.ts';

describe('message record: attachments (version 4)', () => {
  const incoming = {
    direction: 'in',
    id: 'cd'.repeat(16),
    contact: 'c',
    sentAt: 5,
    text: '',
    attachment: true,
    receivedAt: 6,
    route: 'direct',
    read: false,
  } as const;
  const outgoing = {
    direction: 'out',
    id: 'ef'.repeat(16),
    contact: 'c',
    seq: 3,
    sentAt: 7,
    text: '',
    attachment: true,
    status: 'published',
    route: 'chain',
    proof: { txId: '01'.repeat(32), publishedAt: 8 },
    publications: 1,
    attempts: 0,
  } as const;
  const record = (o: object): Uint8Array => utf8ToBytes(JSON.stringify(o));

  it('round-trips both directions as version 4; an older record has no attachment', () => {
    for (const m of [incoming, outgoing] as Message[]) {
      assert.deepEqual(decodeMessage(encodeMessage(m)), m);
      assert.equal(JSON.parse(new TextDecoder().decode(encodeMessage(m))).v, 4);
    }
    assert.equal(decodeMessage(record({ ...incoming, v: 3 })).attachment, undefined);
    assert.equal(decodeMessage(record({ ...incoming, v: 2 })).attachment, undefined);
  });

  it("an outgoing attachment message is never among the engine's unfinished messages", () => {
    assert.equal(isFinished(outgoing), true);
    assert.equal(isFinished({ ...outgoing, status: 'queued' }), true);
    const { attachment: _a, ...text } = outgoing;
    assert.equal(isFinished({ ...text, status: 'queued', text: 'hi' }), false);
  });

  it('refuses an attachment that is not `true`, or beside a text, an action or a timer (CORRUPT_RECORD)', () => {
    for (const bad of [
      { ...incoming, v: 4, attachment: 1 },
      { ...incoming, v: 4, attachment: 'yes' },
      { ...incoming, v: 4, text: 'hidden words' },
      { ...incoming, v: 4, action: { kind: 'forwarded' } },
      { ...incoming, v: 4, timer: 300 },
      { ...outgoing, v: 4, attachment: false },
    ])
      assert.throws(
        () => decodeMessage(record(bad)),
        (e: unknown) => e instanceof DeliveryError && e.code === 'CORRUPT_RECORD',
        JSON.stringify(bad),
      );
  });
});

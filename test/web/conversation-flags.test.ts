/** The conversation flags record (docs/protocol.md "Conversation flags record") and search matching (src/web/search.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DecodeError } from '../../src/util/errors.ts';
import { AppApiError, type ContactId, type ConversationFlags } from '../../src/web/app-api.ts';
import {
  NO_FLAGS,
  conversationRank,
  decodeFlags,
  encodeFlags,
  flagsKey,
  isDefaultFlags,
  loadFlags,
  patchFlags,
} from '../../src/web/conversation-flags.ts';
import { openMemoryStore } from '../../src/storage/memory.ts';
import { STATE_STORE, WEB_SCHEMA } from '../../src/web/engine/profile.ts';

const code = (c: string) => (e: unknown) => e instanceof DecodeError && e.code === c;

describe('conversation flags record', () => {
  it('round-trips every combination, with and without a name of its own', () => {
    for (let bits = 0; bits < 8; bits++) {
      for (const nickname of [undefined, 'Bobby', 'סבתא', '\u{1f600}'.repeat(64)]) {
        const f: ConversationFlags = {
          pinned: (bits & 1) !== 0,
          muted: (bits & 2) !== 0,
          archived: (bits & 4) !== 0,
          ...(nickname !== undefined && { nickname }),
        };
        assert.deepEqual(decodeFlags(encodeFlags(f)), f);
      }
    }
    assert.deepEqual([...encodeFlags({ pinned: true, muted: false, archived: true })], [1, 5]);
  });

  it('refuses other versions, unknown bits, truncation and trailing bytes', () => {
    assert.throws(() => decodeFlags(Uint8Array.of(2, 0)), code('UNKNOWN_VERSION'));
    assert.throws(() => decodeFlags(Uint8Array.of(1, 16)), code('MALFORMED'));
    assert.throws(() => decodeFlags(Uint8Array.of(1)), code('TRUNCATED'));
    assert.throws(() => decodeFlags(Uint8Array.of(1, 8, 5, 0x41)), code('TRUNCATED'));
    assert.throws(() => decodeFlags(Uint8Array.of(1, 0, 0)), code('TRAILING_BYTES'));
    // A name longer than any allowed one is refused before it is read.
    const huge = Uint8Array.of(1, 8, 0xff, 0xff, 0x03);
    assert.throws(
      () => decodeFlags(huge),
      (e: unknown) => e instanceof DecodeError,
    );
  });

  it('loads every readable record and passes over one it cannot read (a newer version, damage)', async () => {
    // Another tab of a newer p2pComm may have written a record of a later version: the
    // profile still opens, and that conversation shows no flags until it is set again.
    const db = await openMemoryStore(WEB_SCHEMA);
    const pinned: ConversationFlags = { ...NO_FLAGS, pinned: true, nickname: 'Ada' };
    await db.put(STATE_STORE, flagsKey('good' as ContactId), encodeFlags(pinned));
    const newer = encodeFlags(pinned);
    newer[0] = 2;
    await db.put(STATE_STORE, flagsKey('newer' as ContactId), newer);
    await db.put(STATE_STORE, flagsKey('damaged' as ContactId), new Uint8Array([1, 0xff]));
    const skipped: unknown[] = [];
    const all = await loadFlags(db, STATE_STORE, (e) => skipped.push(e));
    assert.deepEqual([...all], [['good', pinned]]);
    assert.equal(skipped.length, 2);
    assert.ok(skipped.every((e) => e instanceof DecodeError));
  });

  it('applies changes: a name is trimmed, an empty one goes back to the card name, a long one is refused', () => {
    const pinned = patchFlags(NO_FLAGS, { pinned: true });
    assert.deepEqual(pinned, { pinned: true, muted: false, archived: false });
    const named = patchFlags(pinned, { nickname: '  Grandma  ' });
    assert.equal(named.nickname, 'Grandma');
    assert.equal(patchFlags(named, { nickname: '' }).nickname, undefined);
    assert.equal(patchFlags(named, { nickname: null }).nickname, undefined);
    assert.equal(patchFlags(named, { muted: true }).nickname, 'Grandma', 'other changes keep the name');
    assert.throws(
      () => patchFlags(NO_FLAGS, { nickname: 'x'.repeat(65) }),
      (e: unknown) => e instanceof AppApiError && e.code === 'BAD_NAME',
    );
    assert.throws(() => patchFlags(NO_FLAGS, { pinned: 'yes' as unknown as boolean }), TypeError);
    assert.equal(isDefaultFlags(patchFlags(pinned, { pinned: false })), true);
  });

  it('orders pinned first, then newest, then by id', () => {
    const row = (id: string, at: number, pinned = false) => ({
      contact: { id: id as ContactId },
      last: { at },
      flags: { ...NO_FLAGS, pinned },
    });
    const rows = [row('a', 1), row('b', 3), row('c', 2, true), row('d', 3)].sort(conversationRank);
    assert.deepEqual(
      rows.map((r) => r.contact.id),
      ['c', 'b', 'd', 'a'],
    );
  });
});

describe('search matching', () => {
  it('matches case-insensitively after NFKC, bounded to the newest hits, and refuses long queries', async () => {
    const { collectHits, queryKey, searchKey, MAX_QUERY_LENGTH } = await import('../../src/web/search.ts');
    assert.equal(searchKey('\ufb01le'), 'file');
    assert.ok(searchKey('ÄRGER im Büro').includes(queryKey('ärger')));
    assert.equal(queryKey('   '), '');
    assert.throws(
      () => queryKey('x'.repeat(MAX_QUERY_LENGTH + 1)),
      (e: unknown) => e instanceof AppApiError && e.code === 'BAD_QUERY',
    );
    const contact = {
      id: 'c' as ContactId,
      displayName: 'C',
      fingerprint: '',
      connection: 'offline' as const,
      verified: false,
    };
    const messages = Array.from({ length: 1000 }, (_, i) => ({
      id: `m${String(i).padStart(4, '0')}` as never,
      contactId: contact.id,
      outgoing: false,
      text: i % 3 === 0 ? `Hello ${i}` : `bye ${i}`,
      sentAt: i,
      status: 'delivered' as const,
      hasProof: false,
    }));
    const same = <T>(m: T): T => m;
    const hits = collectHits([{ contact, messages }], queryKey('HELLO'), 5, (m) => m.text, same);
    assert.deepEqual(
      hits.map((h) => h.message.text),
      ['Hello 999', 'Hello 996', 'Hello 993', 'Hello 990', 'Hello 987'],
    );
    assert.deepEqual(
      collectHits([{ contact, messages }], '', 5, (m) => m.text, same),
      [],
    );
  });
});

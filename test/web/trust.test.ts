import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContactId } from '../../src/web/app-api.ts';
import { STATE_STORE, WEB_SCHEMA } from '../../src/web/engine/profile.ts';
import {
  decodeTrust,
  encodeTrust,
  loadTrust,
  sameName,
  trustKey,
  trustView,
} from '../../src/web/engine/trust.ts';
import { openMemoryStore } from '../../src/storage/memory.ts';
import { DecodeError } from '../../src/util/errors.ts';

const key = new Uint8Array(32).fill(5);
const other = new Uint8Array(32).fill(6);

describe('trust records (verified mark and key warnings)', () => {
  it('round-trips every shape of record', () => {
    for (const r of [{}, { verifiedKey: key }, { sameNameAs: 'p2p1abc' as ContactId }]) {
      assert.deepEqual(decodeTrust(encodeTrust(r)), r);
    }
  });

  it('refuses unknown versions and damaged records', () => {
    const bytes = encodeTrust({ verifiedKey: key });
    assert.throws(
      () => decodeTrust(Uint8Array.of(2, ...bytes.subarray(1))),
      (e) => e instanceof DecodeError && e.code === 'UNKNOWN_VERSION',
    );
    assert.throws(() => decodeTrust(bytes.subarray(0, 20)), DecodeError);
    assert.throws(() => decodeTrust(Uint8Array.of(...bytes, 0)), DecodeError);
  });

  it('loads every readable record and passes over one it cannot read (a newer version, damage)', async () => {
    // As with conversation flags: one unreadable record must not keep the profile from opening.
    // The contact it belonged to shows as not verified, the safe side, until verified again.
    const db = await openMemoryStore(WEB_SCHEMA);
    await db.put(STATE_STORE, trustKey('good' as ContactId), encodeTrust({ verifiedKey: key }));
    await db.put(STATE_STORE, trustKey('newer' as ContactId), Uint8Array.of(2, 0));
    await db.put(STATE_STORE, trustKey('damaged' as ContactId), Uint8Array.of(1, 1, 0));
    const skipped: unknown[] = [];
    const all = await loadTrust(db, STATE_STORE, (e) => skipped.push(e));
    assert.deepEqual([...all], [['good', { verifiedKey: key }]]);
    assert.equal(skipped.length, 2);
    assert.ok(skipped.every((e) => e instanceof DecodeError));
  });

  it('shows verified only while the key is the one verified; a changed key warns', () => {
    assert.deepEqual(trustView(undefined, key), { verified: false });
    assert.deepEqual(trustView({ verifiedKey: key }, key), { verified: true });
    assert.deepEqual(trustView({ verifiedKey: key }, other), {
      verified: false,
      keyWarning: { kind: 'changed' },
    });
    assert.deepEqual(trustView({ sameNameAs: 'c1' as ContactId }, key), {
      verified: false,
      keyWarning: { kind: 'same-name', otherId: 'c1' },
    });
  });

  it('compares names as people read them', () => {
    assert.ok(sameName(' Dana', 'dana '));
    assert.ok(!sameName('Dana', 'Diana'));
  });
});

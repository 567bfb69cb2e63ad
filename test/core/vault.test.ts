import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SCRYPT, Vault, checkScryptParams, type ScryptParams } from '../../src/core/vault/vault.ts';
import { VaultError } from '../../src/core/errors.ts';
import { hexToBytes } from '../../src/util/bytes.ts';

// Low cost keeps the tests quick; the default cost is measured in bench/core.bench.ts.
const FAST: ScryptParams = { logN: 10, r: 8, p: 1 };
const SEED = hexToBytes('1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100');

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof VaultError, `expected VaultError, got ${String(e)}`);
    return e.code;
  }
  assert.fail('expected a rejection');
}

describe('Vault', () => {
  it('unlocks with the right password to the same seed and identity', async () => {
    const v = await Vault.create('correct horse', SEED, FAST);
    const bytes = v.serialize();
    const u = await Vault.unlock(bytes, 'correct horse');
    assert.deepEqual(u.exportSeed(), SEED);
    assert.deepEqual(u.identity().peerId, v.identity().peerId);
    assert.deepEqual(u.params, FAST);
  });

  it('creates a random seed when none is given; serializations differ (fresh nonce)', async () => {
    const v = await Vault.create('pw', undefined, FAST);
    assert.equal(v.exportSeed().length, 32);
    assert.notDeepEqual(v.serialize(), v.serialize());
  });

  it('works with the default (production) cost', async () => {
    const v = await Vault.create('pw', SEED);
    assert.deepEqual((await Vault.unlock(v.serialize(), 'pw')).exportSeed(), SEED);
  });

  it('wrong password: WRONG_PASSWORD, and the bytes are untouched', async () => {
    const bytes = (await Vault.create('right', SEED, FAST)).serialize();
    const copy = bytes.slice();
    assert.equal(await code(Vault.unlock(bytes, 'wrong')), 'WRONG_PASSWORD');
    assert.deepEqual(bytes, copy);
    assert.deepEqual((await Vault.unlock(bytes, 'right')).exportSeed(), SEED);
  });

  it('normalizes the password (NFKC), so composed and decomposed accents match', async () => {
    const bytes = (await Vault.create('caf\u00e9', SEED, FAST)).serialize();
    assert.deepEqual((await Vault.unlock(bytes, 'cafe\u0301')).exportSeed(), SEED);
  });

  it('any flipped bit is a typed error, never a crash or another seed', async () => {
    const bytes = (await Vault.create('pw', SEED, FAST)).serialize();
    for (let i = 0; i < bytes.length; i++) {
      const bad = bytes.slice();
      bad[i]! ^= 0x01;
      const c = await code(Vault.unlock(bad, 'pw'));
      assert.ok(
        ['WRONG_PASSWORD', 'CORRUPTED', 'UNSUPPORTED_VERSION', 'KDF_LIMIT'].includes(c),
        `byte ${i}: ${c}`,
      );
    }
  });

  it('truncated, extended, empty or foreign bytes: CORRUPTED', async () => {
    const bytes = (await Vault.create('pw', SEED, FAST)).serialize();
    assert.equal(await code(Vault.unlock(bytes.subarray(0, bytes.length - 1), 'pw')), 'CORRUPTED');
    assert.equal(await code(Vault.unlock(new Uint8Array([...bytes, 0]), 'pw')), 'CORRUPTED');
    assert.equal(await code(Vault.unlock(new Uint8Array(0), 'pw')), 'CORRUPTED');
    assert.equal(await code(Vault.unlock(new TextEncoder().encode('{"seed":"..."}'), 'pw')), 'CORRUPTED');
  });

  it('unknown version and hostile KDF parameters are refused before any work', async () => {
    const bytes = (await Vault.create('pw', SEED, FAST)).serialize();
    const v2 = bytes.slice();
    v2[4] = 2;
    assert.equal(await code(Vault.unlock(v2, 'pw')), 'UNSUPPORTED_VERSION');
    const huge = bytes.slice();
    huge[6] = 40; // N = 2^40
    assert.equal(await code(Vault.unlock(huge, 'pw')), 'KDF_LIMIT');
  });

  it('refuses KDF costs beyond the bound in a header before any work (2x default memory, 4x work)', async () => {
    const bytes = (await Vault.create('pw', SEED, FAST)).serialize();
    const crafted = (logN: number, r: number, p: number): Uint8Array => {
      const b = bytes.slice();
      b[6] = logN;
      b[7] = r;
      b[8] = p;
      return b;
    };
    // N = 2^18, r = 8: 256 MiB and 4x the default work (4.3 s measured) is no longer run.
    assert.equal(await code(Vault.unlock(crafted(18, 8, 1), 'pw')), 'KDF_LIMIT');
    // Default memory, 16x the work through p.
    assert.equal(await code(Vault.unlock(crafted(16, 8, 16), 'pw')), 'KDF_LIMIT');
    // 2^14 x 32 x 128 = 64 MiB but p = 16: 8x the work.
    assert.equal(await code(Vault.unlock(crafted(14, 32, 16), 'pw')), 'KDF_LIMIT');
    // Within the bound, the parameters are simply used (the header is authenticated, so the
    // altered header fails as WRONG_PASSWORD after a cheap derivation).
    assert.equal(await code(Vault.unlock(crafted(11, 8, 1), 'pw')), 'WRONG_PASSWORD');
    // Creating a vault beyond the bound is misuse: it could never be opened again.
    await assert.rejects(Vault.create('pw', SEED, { logN: 18, r: 8, p: 1 }), RangeError);
    await assert.rejects(Vault.create('pw', SEED, { logN: 16, r: 8, p: 8 }), RangeError);
  });

  it('accepts every cost up to the bound, including raised defaults (N = 2^17, or p = 4)', () => {
    for (const p of [
      { logN: 17, r: 8, p: 1 },
      { logN: 16, r: 8, p: 4 },
      { logN: 17, r: 8, p: 2 },
      DEFAULT_SCRYPT,
    ])
      assert.doesNotThrow(() => checkScryptParams(p), JSON.stringify(p));
    assert.throws(() => checkScryptParams({ logN: 17, r: 8, p: 3 }), RangeError);
    assert.throws(() => checkScryptParams({ logN: 16, r: 32, p: 1 }), RangeError);
    assert.throws(() => checkScryptParams({ logN: 18, r: 8, p: 1 }), RangeError);
  });

  it('refuses an empty password with a typed error (create, unlock, change)', async () => {
    assert.equal(await code(Vault.create('', SEED, FAST)), 'EMPTY_PASSWORD');
    const bytes = (await Vault.create('pw', SEED, FAST)).serialize();
    assert.equal(await code(Vault.unlock(bytes, '')), 'EMPTY_PASSWORD');
    assert.equal(await code(Vault.changePassword(bytes, 'pw', '', FAST)), 'EMPTY_PASSWORD');
  });

  it('changes the password (and cost): old password refused, new one opens the same seed', async () => {
    const bytes = (await Vault.create('old', SEED, FAST)).serialize();
    const next = await Vault.changePassword(bytes, 'old', 'new', { logN: 11, r: 8, p: 1 });
    assert.equal(await code(Vault.unlock(next, 'old')), 'WRONG_PASSWORD');
    const u = await Vault.unlock(next, 'new');
    assert.deepEqual(u.exportSeed(), SEED);
    assert.equal(u.params.logN, 11);
    assert.equal(await code(Vault.changePassword(bytes, 'bad', 'new', FAST)), 'WRONG_PASSWORD');
  });

  it('checks arguments at the boundary', async () => {
    await assert.rejects(Vault.create('pw', new Uint8Array(16), FAST), RangeError);
    await assert.rejects(Vault.create('pw', SEED, { logN: 30, r: 8, p: 1 }), RangeError);
    await assert.rejects(Vault.unlock('x' as unknown as Uint8Array, 'pw'), TypeError);
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { Identity } from '../../src/core/identity/identity.ts';
import { formatPeerId, parsePeerId, peerIdFromPublicKey } from '../../src/core/identity/peer-id.ts';
import {
  decodeRecoveryKey,
  encodeRecoveryKey,
  RECOVERY_KEY_WORDS,
} from '../../src/core/identity/recovery-key.ts';
import { PeerIdError, RecoveryKeyError } from '../../src/core/errors.ts';
import { verifyEd25519 } from '../../src/core/identity/keys.ts';
import { bytesToHex, hexToBytes, utf8ToBytes } from '../../src/util/bytes.ts';

const SEED = hexToBytes('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof RecoveryKeyError || e instanceof PeerIdError) return e.code;
    throw e;
  }
  return undefined;
}

describe('Identity', () => {
  it('derives the same keys from the same seed, different keys from another', () => {
    const a = Identity.fromSeed(SEED);
    const b = Identity.fromSeed(SEED.slice());
    assert.deepEqual(a.publicKey, b.publicKey);
    assert.deepEqual(a.peerId, b.peerId);
    const other = Identity.generate();
    assert.notDeepEqual(other.publicKey, a.publicKey);
  });

  it('keeps derived keys independent: the identity key in both forms and the wallet key differ', () => {
    const a = Identity.fromSeed(SEED);
    const keys = [a.publicKey, a.dhPublicKey, a.walletSeed().subarray(0, 32)];
    assert.equal(new Set(keys.map(bytesToHex)).size, keys.length);
  });

  it('pins the derivation (changing a label would silently change every user identity)', () => {
    const a = Identity.fromSeed(SEED);
    // Computed once with this code; guards the HKDF salt and labels and the peer ID hash.
    assert.equal(bytesToHex(a.publicKey), '2c2513f3e7283eff661f996020540016c000778e65d49a040f55f8f8efe5e5e4');
    assert.equal(formatPeerId(a.peerId), 'p2p1hkgqe928eqf9t5eqelzeuck7992zkh6ruk7qnjj6vytdu0fkxl4qkyzg5d');
    assert.deepEqual(a.peerId, peerIdFromPublicKey(a.publicKey));
  });

  it('signs with the identity key; the X25519 form agrees with the peer', () => {
    const a = Identity.generate();
    const b = Identity.generate();
    const msg = utf8ToBytes('hello');
    assert.equal(verifyEd25519(a.sign(msg), msg, a.publicKey), true);
    assert.deepEqual(a.agree(b.dhPublicKey), b.agree(a.dhPublicKey));
  });

  it('refuses seeds of the wrong size with RangeError', () => {
    assert.throws(() => Identity.fromSeed(new Uint8Array(31)), RangeError);
    assert.throws(() => Identity.fromSeed('x' as unknown as Uint8Array), TypeError);
  });
});

describe('peer ID text form', () => {
  const id = Identity.fromSeed(SEED).peerId;
  const text = formatPeerId(id);

  it('round-trips, tolerating case and surrounding spaces', () => {
    assert.match(text, /^p2p1[02-9ac-hj-np-z]{58}$/);
    assert.deepEqual(parsePeerId(text), id);
    assert.deepEqual(parsePeerId(`  ${text.toUpperCase()} `), id);
  });

  it('detects every single mistyped character', () => {
    const alphabet = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
    for (let i = 4; i < text.length; i++) {
      const other = alphabet[(alphabet.indexOf(text[i]!) + 1 + (i % 31)) % 32]!;
      const typo = text.slice(0, i) + other + text.slice(i + 1);
      assert.equal(
        codeOf(() => parsePeerId(typo)),
        'BAD_CHECKSUM',
        `position ${i}`,
      );
    }
  });

  it('gives typed errors for wrong prefix, characters and length', () => {
    assert.equal(
      codeOf(() => parsePeerId('kaspa:qqq')),
      'BAD_FORMAT',
    );
    assert.equal(
      codeOf(() => parsePeerId(`${text.slice(0, 10)}b${text.slice(11)}`)),
      'BAD_FORMAT',
    );
    assert.equal(
      codeOf(() => parsePeerId(text.slice(0, -1))),
      'BAD_LENGTH',
    );
    assert.equal(
      codeOf(() => parsePeerId(`${text}q`)),
      'BAD_LENGTH',
    );
  });

  it('never throws anything but PeerIdError on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        try {
          parsePeerId(`p2p1${s}`);
        } catch (e) {
          assert.ok(e instanceof PeerIdError);
        }
      }),
    );
  });
});

describe('recovery key', () => {
  const key = encodeRecoveryKey(SEED);
  const words = key.split(' ');

  it('has 25 words: the 24 BIP39 words of the seed and a check word', () => {
    assert.equal(words.length, RECOVERY_KEY_WORDS);
    assert.deepEqual(decodeRecoveryKey(key), SEED);
  });

  it('round-trips any seed, restoring the same identity and peer ID', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (seed) => {
        const restored = Identity.fromSeed(decodeRecoveryKey(encodeRecoveryKey(seed)));
        assert.deepEqual(restored.peerId, Identity.fromSeed(seed).peerId);
      }),
      { numRuns: 50 },
    );
  });

  it('tolerates case, extra spaces and 4-letter prefixes', () => {
    const messy = `  ${words.map((w, i) => (i % 2 ? w.toUpperCase() : w.slice(0, Math.max(4, w.length - 1)))).join('   ')} `;
    assert.deepEqual(decodeRecoveryKey(messy), SEED);
  });

  it('catches every single wrong word (all 2047 substitutions at a position), never restoring a wrong seed', () => {
    for (const position of [0, 11, 23, 24]) {
      for (let w = 0; w < wordlist.length; w++) {
        if (wordlist[w] === words[position]) continue;
        const typo = words.slice();
        typo[position] = wordlist[w]!;
        assert.equal(
          codeOf(() => decodeRecoveryKey(typo.join(' '))),
          'CHECKSUM',
          `${position}:${wordlist[w]}`,
        );
      }
    }
  });

  it('catches a single wrong word at any position of random keys', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 0, max: 24 }),
        fc.integer({ min: 1, max: 2047 }),
        (seed, position, delta) => {
          const typo = encodeRecoveryKey(seed).split(' ');
          typo[position] = wordlist[(wordlist.indexOf(typo[position]!) + delta) % 2048]!;
          assert.equal(
            codeOf(() => decodeRecoveryKey(typo.join(' '))),
            'CHECKSUM',
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('catches two neighbouring words swapped', () => {
    for (let i = 0; i < 24; i++) {
      if (words[i] === words[i + 1]) continue;
      const swapped = words.slice();
      [swapped[i], swapped[i + 1]] = [swapped[i + 1]!, swapped[i]!];
      assert.equal(
        codeOf(() => decodeRecoveryKey(swapped.join(' '))),
        'CHECKSUM',
        `swap ${i}`,
      );
    }
  });

  it('reports an unknown word with its position, and a wrong count', () => {
    const bad = words.slice();
    bad[6] = 'blockchain';
    assert.throws(
      () => decodeRecoveryKey(bad.join(' ')),
      (e: unknown) => e instanceof RecoveryKeyError && e.code === 'UNKNOWN_WORD' && e.position === 7,
    );
    assert.equal(
      codeOf(() => decodeRecoveryKey(words.slice(0, 20).join(' '))),
      'WORD_COUNT',
    );
    assert.equal(
      codeOf(() => decodeRecoveryKey('')),
      'WORD_COUNT',
    );
  });

  it('accepts the 24 BIP39 words alone (a wallet phrase) with BIP39 checking', () => {
    assert.deepEqual(decodeRecoveryKey(words.slice(0, 24).join(' ')), SEED);
  });
});

/**
 * Official vectors (STYLE §7) run against the libraries the core uses: RFC 8032 Ed25519,
 * RFC 7748 X25519, BLAKE3, BIP39, BIP32, and the Kaspa wallet vectors of FACTS §2.3
 * through the identity code (seed → recovery key → wallet).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { blake3 } from '@noble/hashes/blake3.js';
import { mnemonicToEntropy, entropyToMnemonic, mnemonicToSeedSync } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { HDKey } from '@scure/bip32';
import { bytesToHex, hexToBytes, utf8ToBytes } from '../../src/util/bytes.ts';
import { verifyEd25519, type Ed25519PublicKey } from '../../src/core/identity/keys.ts';
import { Identity } from '../../src/core/identity/identity.ts';
import { decodeRecoveryKey, encodeRecoveryKey } from '../../src/core/identity/recovery-key.ts';
import { identityWallet, receiveAddress } from '../../src/core/identity/wallet.ts';
import { x25519Backend } from '../../src/core/identity/x25519-backend.ts';
import { x25519Backend as nobleBackend } from '../../src/core/identity/x25519-backend.browser.ts';

const load = <T>(name: string): T => JSON.parse(readFileSync(join(import.meta.dirname, name), 'utf8')) as T;

describe('RFC 8032 §7.1 Ed25519', () => {
  const v = load<{ cases: { name: string; secretKey: string; publicKey: string; message: string; signature: string }[] }>(
    'rfc8032-ed25519.json',
  );
  for (const c of v.cases) {
    it(c.name, () => {
      const sk = hexToBytes(c.secretKey);
      const msg = hexToBytes(c.message);
      assert.equal(bytesToHex(ed25519.getPublicKey(sk)), c.publicKey);
      assert.equal(bytesToHex(ed25519.sign(msg, sk)), c.signature);
      const pk = hexToBytes(c.publicKey) as Ed25519PublicKey;
      assert.equal(verifyEd25519(hexToBytes(c.signature), msg, pk), true);
      const bad = hexToBytes(c.signature);
      bad[0]! ^= 1;
      assert.equal(verifyEd25519(bad, msg, pk), false, 'altered signature');
      assert.equal(verifyEd25519(hexToBytes(c.signature), utf8ToBytes('x'), pk), false, 'other message');
    });
  }
  it('rejects a signature whose S is not reduced (RFC 8032 §5.1.7 step 1)', () => {
    const c = v.cases[0]!;
    const sig = hexToBytes(c.signature);
    // S + L, where L is the group order: same point equation, non-canonical encoding.
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    let s = 0n;
    for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i]!);
    s += L;
    for (let i = 0; i < 32; i++) sig[32 + i] = Number((s >> BigInt(8 * i)) & 0xffn);
    assert.equal(verifyEd25519(sig, hexToBytes(c.message), hexToBytes(c.publicKey) as Ed25519PublicKey), false);
  });
});

describe('RFC 7748 X25519', () => {
  const v = load<{
    function: { scalar: string; u: string; output: string }[];
    iterated: { iterations: number; output: string }[];
    dh: Record<'alicePrivate' | 'alicePublic' | 'bobPrivate' | 'bobPublic' | 'shared', string>;
  }>('rfc7748-x25519.json');
  it('§5.2 function vectors', () => {
    for (const c of v.function) {
      assert.equal(bytesToHex(x25519.scalarMult(hexToBytes(c.scalar), hexToBytes(c.u))), c.output);
    }
  });
  it('§5.2 iterated vectors (1 and 1,000 iterations)', () => {
    let k = hexToBytes('0900000000000000000000000000000000000000000000000000000000000000');
    let u = k.slice();
    let done = 0;
    for (const c of v.iterated) {
      while (done < c.iterations) {
        const next = x25519.scalarMult(k, u);
        u = k;
        k = next;
        done++;
      }
      assert.equal(bytesToHex(k), c.output, `after ${c.iterations}`);
    }
  });
});

// §6.1 and the top bit through both X25519 backends the key helpers use: the runtime's own in
// Node.js (it must be the one chosen here, or the catch-up figures would be the fallback's)
// and noble's, which the web app is bundled with.
for (const backend of [x25519Backend, nobleBackend]) {
  describe(`RFC 7748 X25519 through the ${backend.name} backend`, () => {
    const v = load<{
      function: { scalar: string; u: string; output: string }[];
      dh: Record<'alicePrivate' | 'alicePublic' | 'bobPrivate' | 'bobPublic' | 'shared', string>;
    }>('rfc7748-x25519.json');
    it('§5.2 function vectors and §6.1 Diffie-Hellman', () => {
      for (const c of v.function) {
        assert.equal(bytesToHex(backend.shared(hexToBytes(c.scalar), hexToBytes(c.u))), c.output);
      }
      const d = v.dh;
      assert.equal(bytesToHex(backend.publicKey(hexToBytes(d.alicePrivate))), d.alicePublic);
      assert.equal(bytesToHex(backend.publicKey(hexToBytes(d.bobPrivate))), d.bobPublic);
      assert.equal(bytesToHex(backend.shared(hexToBytes(d.alicePrivate), hexToBytes(d.bobPublic))), d.shared);
      assert.equal(bytesToHex(backend.shared(hexToBytes(d.bobPrivate), hexToBytes(d.alicePublic))), d.shared);
    });
    it('masks the top bit of u (RFC 7748 §5), which first-contact frames rely on, and refuses a low-order point', () => {
      const d = v.dh;
      const pub = hexToBytes(d.bobPublic);
      pub[31]! |= 0x80;
      assert.equal(bytesToHex(backend.shared(hexToBytes(d.alicePrivate), pub)), d.shared);
      assert.throws(() => backend.shared(hexToBytes(d.alicePrivate), new Uint8Array(32)));
      assert.throws(() => backend.shared(hexToBytes(d.alicePrivate), Uint8Array.of(1, ...new Uint8Array(31))));
    });
    it('refuses keys of the wrong length', () => {
      assert.throws(() => backend.shared(new Uint8Array(31), hexToBytes(v.dh.bobPublic)));
      assert.throws(() => backend.shared(hexToBytes(v.dh.alicePrivate), new Uint8Array(33)));
    });
  });
}
it('Node.js uses its own X25519', () => assert.equal(x25519Backend.name, 'native'));

describe('BLAKE3 official vectors', () => {
  const v = load<{
    key: string;
    context_string: string;
    cases: { input_len: number; hash: string; keyed_hash: string; derive_key: string }[];
  }>('blake3.json');
  const input = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i % 251);
  for (const c of v.cases) {
    it(`input_len ${c.input_len}`, () => {
      const data = input(c.input_len);
      assert.equal(bytesToHex(blake3(data)), c.hash);
      assert.equal(bytesToHex(blake3(data, { key: utf8ToBytes(v.key) })), c.keyed_hash);
      assert.equal(bytesToHex(blake3(data, { context: utf8ToBytes(v.context_string) })), c.derive_key);
    });
  }
});

describe('BIP39 (Trezor vectors)', () => {
  const v = load<{ passphrase: string; cases: { entropy: string; mnemonic: string; seed: string }[] }>('bip39.json');
  for (const c of v.cases) {
    it(c.mnemonic.split(' ').slice(-1)[0]!, () => {
      assert.equal(entropyToMnemonic(hexToBytes(c.entropy), wordlist), c.mnemonic);
      assert.equal(bytesToHex(mnemonicToEntropy(c.mnemonic, wordlist)), c.entropy);
      assert.equal(bytesToHex(mnemonicToSeedSync(c.mnemonic, v.passphrase)), c.seed);
    });
  }
});

describe('BIP32 test vector 1', () => {
  const v = load<{ seed: string; chains: { path: string; xpub: string; xprv: string }[] }>('bip32.json');
  for (const c of v.chains) {
    it(c.path, () => {
      const key = HDKey.fromMasterSeed(hexToBytes(v.seed)).derive(c.path);
      assert.equal(key.privateExtendedKey, c.xprv);
      assert.equal(key.publicExtendedKey, c.xpub);
    });
  }
});

describe('Kaspa wallet vectors (FACTS §2.3) through the identity', () => {
  const phrase =
    'fringe ceiling crater inject pilot travel gas nurse bulb bullet horn segment snack harbor dice laugh vital cigar push couple plastic into slender worry';
  const seed = mnemonicToEntropy(phrase, wordlist);
  const identity = Identity.fromSeed(seed);

  it('the identity seed is the BIP39 entropy: wallet seed matches FACTS §2.3', () => {
    assert.equal(
      bytesToHex(identity.walletSeed()),
      '6a0ede077e91c8f936e020c6a0a2d866940dacdf93dede44236ee54fc91d72c953a628a5602798615a364f5a170492a250a0514638fe27dc5b4a4e1da0c5244c',
    );
  });

  it('the recovery key starts with the same 24 words, and restores the same wallet seed', () => {
    const key = encodeRecoveryKey(seed);
    assert.equal(key.split(' ').slice(0, 24).join(' '), phrase);
    assert.deepEqual(Identity.fromSeed(decodeRecoveryKey(key)).walletSeed(), identity.walletSeed());
  });
});

describe('Kaspa addresses of an identity (FACTS §2.3 vector 1)', () => {
  const phrase =
    'fringe ceiling crater inject pilot travel gas nurse bulb bullet horn segment snack harbor dice laugh vital cigar push couple plastic into slender worry';
  const identity = Identity.fromSeed(mnemonicToEntropy(phrase, wordlist));

  it('m/44\'/111111\'/0\'/0/0, 0/1 and 1/0 give the documented addresses', () => {
    const wallet = identityWallet(identity);
    assert.equal(receiveAddress(identity, 'kaspa').toString(), 'kaspa:qqzrk3a4acjla3zc9ngr37u4grtkr0k0mqf6qhmd9lteks00av6asl6rqhjnm');
    assert.equal(wallet.address('kaspa', 0, 0, 1).toString(), 'kaspa:qrqjaalxdcvuhjqhf8nuzkhxvdj7xv7tp3zlea689p8vh8hczvdt7avlxenuw');
    assert.equal(wallet.address('kaspa', 0, 1, 0).toString(), 'kaspa:qq2qmmksw0n0s2rz445hc4dxx4y37upvq32fy7ee8kvq2s9vvpylqqqha378s');
    assert.equal(
      bytesToHex(wallet.privateKey(0, 0, 0)),
      '1e59bd4c9c744db9b118eadfe2becf49ee36499d50174bc1209267d323397ca9',
    );
  });

  it('a restore from the recovery key gives the same addresses and peer ID', () => {
    const restored = Identity.fromSeed(decodeRecoveryKey(encodeRecoveryKey(identity.exportSeed())));
    assert.deepEqual(restored.peerId, identity.peerId);
    assert.equal(receiveAddress(restored, 'kaspa', 0, 5).toString(), receiveAddress(identity, 'kaspa', 0, 5).toString());
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64urlnopad } from '@scure/base';
import { Invite } from '../../src/core/contact/card.ts';
import {
  MAX_CANDIDATES,
  SEALED_INVITE_BYTES,
  SEALED_INVITE_VERSION,
  SEALED_PLAINTEXT_BYTES,
  ShortInvite,
  parseInviteLink,
  resolveShortInvite,
  type InviteCardDirectory,
} from '../../src/core/contact/short-invite.ts';
import { qrVersion } from '../../src/web/qr.ts';
import { bytesToHex, concatBytes, randomBytes, utf8ToBytes } from '../../src/util/bytes.ts';
import { makeUser, errorCode, type TestUser } from './helpers.ts';

/** A directory in memory: what a place that keeps sealed invites by locator does, newest first. */
class MemoryDirectory implements InviteCardDirectory {
  readonly kept = new Map<string, Uint8Array[]>();
  publish(locator: Uint8Array, sealed: Uint8Array): Promise<void> {
    const key = bytesToHex(locator);
    this.kept.set(key, [sealed.slice(), ...(this.kept.get(key) ?? [])]);
    return Promise.resolve();
  }
  find(locator: Uint8Array): Promise<readonly Uint8Array[]> {
    return Promise.resolve(this.kept.get(bytesToHex(locator)) ?? []);
  }
}

function inviteOf(u: TestUser, oneTime = 1): Invite {
  return new Invite(u.sessions.ownCard!, u.sessions.mintOneTimeKeys(oneTime));
}

/** A sealed invite at `short`'s locator made by someone who knows its secret (not the inviter). */
function forgedSeal(short: ShortInvite, invite: Invite): Uint8Array {
  const out = hkdf(sha256, short.secret, short.fingerprint, utf8ToBytes('p2pcomm/v1/short-invite'), 64);
  const plain = new Uint8Array(SEALED_PLAINTEXT_BYTES);
  const bytes = invite.serialize();
  plain.set(bytes);
  plain[bytes.length] = 0x80;
  const nonce = randomBytes(24);
  const aad = concatBytes(utf8ToBytes('p2pcomm/v1/short-invite'), short.fingerprint);
  return concatBytes(
    Uint8Array.of(SEALED_INVITE_VERSION),
    nonce,
    xchacha20poly1305(out.slice(0, 32), nonce, aad).encrypt(plain),
  );
}

describe('short invite (invite version 4)', () => {
  it('fits a QR code of version 6 or lower (the full invite needs 37) and resolves to exactly the signed invite', async () => {
    const bob = makeUser('bob');
    const full = inviteOf(bob);
    const short = ShortInvite.create(full);
    const link = short.toLink();
    assert.equal(link.length, 44);
    assert.ok(qrVersion(link) <= 6, `QR version ${qrVersion(link)}`);
    assert.ok(qrVersion(full.toLink()) > 30, 'the full invite is what the short one replaces');
    const dir = new MemoryDirectory();
    await dir.publish(short.locator, short.seal(full));
    const parsed = parseInviteLink(link);
    assert.equal(parsed.kind, 'short');
    const got = await resolveShortInvite(parsed.kind === 'short' ? parsed.short : short, dir);
    assert.equal(bytesToHex(got.serialize()), bytesToHex(full.serialize()));
    assert.ok(got.card.sameCard(bob.card));
    // The full link still reads as before ("Copy full invite").
    const again = parseInviteLink(full.toLink());
    assert.equal(again.kind === 'full' && bytesToHex(again.invite.serialize()), bytesToHex(full.serialize()));
  });

  it('a sealed invite has one size whatever the name, addresses and one-time keys, and says nothing in clear', () => {
    const a = makeUser('a');
    const b = makeUser('a much longer display name, with ünïcödé in it');
    const sa = ShortInvite.create(inviteOf(a, 0));
    const sb = ShortInvite.create(inviteOf(b, 4));
    const [x, y] = [sa.seal(inviteOf(a, 0)), sb.seal(inviteOf(b, 4))];
    assert.equal(x.length, SEALED_INVITE_BYTES);
    assert.equal(y.length, SEALED_INVITE_BYTES);
    const hex = bytesToHex(y);
    assert.ok(!hex.includes(bytesToHex(b.identity.publicKey)));
    assert.ok(!hex.includes(bytesToHex(b.card.preKey)));
    assert.ok(!hex.includes(bytesToHex(b.identity.peerId.subarray(0, 10))), 'not even the fingerprint');
    assert.notEqual(bytesToHex(sa.locator), bytesToHex(sb.locator));
  });

  it('a card substituted by someone who learnt the secret is refused; the honest one is still found', async () => {
    const bob = makeUser('bob');
    const mallory = makeUser('bob');
    const full = inviteOf(bob);
    const short = ShortInvite.create(full);
    const dir = new MemoryDirectory();
    // Mallory scanned the QR code before anyone else and publishes her own card under it.
    const forged = forgedSeal(short, inviteOf(mallory));
    assert.equal(
      errorCode(() => short.open(forged)),
      'IDENTITY_MISMATCH',
    );
    await dir.publish(short.locator, forged);
    assert.equal(
      await resolveShortInvite(short, dir).then(
        () => 'resolved',
        (e: { code?: string }) => e.code,
      ),
      'NOT_FOUND',
    );
    await dir.publish(short.locator, short.seal(full));
    await dir.publish(short.locator, forged);
    const got = await resolveShortInvite(short, dir);
    assert.ok(got.card.sameCard(bob.card));
    // Nor can the inviter's own seal be pinned on another identity's short invite.
    assert.equal(
      errorCode(() => ShortInvite.create(inviteOf(mallory)).seal(full)),
      'IDENTITY_MISMATCH',
    );
  });

  it('hostile candidates: altered, truncated, another version, garbage are skipped; at most 16 are examined', async () => {
    const bob = makeUser('bob');
    const full = inviteOf(bob);
    const short = ShortInvite.create(full);
    const honest = short.seal(full);
    const altered = honest.slice();
    altered[100]! ^= 1;
    assert.equal(
      errorCode(() => short.open(altered)),
      'BAD_SIGNATURE',
    );
    assert.equal(
      errorCode(() => short.open(honest.subarray(1))),
      'MALFORMED',
    );
    const v4 = honest.slice();
    v4[0] = 4;
    assert.equal(
      errorCode(() => short.open(v4)),
      'UNKNOWN_VERSION',
    );
    // Older seals, each at its own size (version 1 for invite version 3, 1,752 bytes; version
    // 2 for cards without a device list, 1,786 bytes), are named as another version.
    for (const [version, bytes] of [
      [1, 1_752],
      [2, 1_786],
    ] as const) {
      const old = concatBytes(Uint8Array.of(version), honest.subarray(1, bytes));
      assert.equal(
        errorCode(() => short.open(old)),
        'UNKNOWN_VERSION',
        `version ${version}`,
      );
    }
    // Another short invite's seal (same identity, other secret) does not open under this one.
    assert.equal(
      errorCode(() => short.open(ShortInvite.create(full).seal(full))),
      'BAD_SIGNATURE',
    );
    const dir = new MemoryDirectory();
    await dir.publish(short.locator, honest);
    for (let i = 0; i < MAX_CANDIDATES; i++)
      await dir.publish(short.locator, randomBytes(SEALED_INVITE_BYTES));
    assert.equal(
      await resolveShortInvite(short, dir).then(
        () => 'resolved',
        (e: { code?: string }) => e.code,
      ),
      'NOT_FOUND',
      'the honest seal came 17th: bounded work',
    );
    const dir2 = new MemoryDirectory();
    await dir2.publish(short.locator, honest);
    for (const bad of [altered, v4, randomBytes(3), new Uint8Array(0)])
      await dir2.publish(short.locator, bad);
    assert.ok((await resolveShortInvite(short, dir2)).card.sameCard(bob.card));
  });

  it('link forms: another short version and a truncated short link are refused with typed errors; old forms as before', () => {
    const short = ShortInvite.create(inviteOf(makeUser('bob')));
    const bytes = short.serialize();
    const other = bytes.slice();
    // 5 is the full invite's version now (card.ts INVITE_VERSION): 6 is nobody's.
    other[0] = 6;
    assert.equal(
      errorCode(() => ShortInvite.deserialize(other)),
      'UNKNOWN_VERSION',
    );
    assert.equal(
      errorCode(() => parseInviteLink('p2pcomm:' + base64urlnopad.encode(other))),
      'UNKNOWN_VERSION',
    );
    assert.equal(
      errorCode(() => ShortInvite.deserialize(bytes.subarray(0, 26))),
      'TRUNCATED',
    );
    assert.equal(
      errorCode(() => ShortInvite.deserialize(concatBytes(bytes, Uint8Array.of(0)))),
      'TRAILING_BYTES',
    );
    assert.equal(
      errorCode(() => parseInviteLink('p2pcomm:' + base64urlnopad.encode(bytes.subarray(0, 26)))),
      'UNKNOWN_VERSION',
      'not a short invite by length: read as a full one, which it is not either',
    );
    assert.equal(
      errorCode(() => parseInviteLink('p2pcomm:' + base64urlnopad.encode(makeUser('c').card.serialize()))),
      'UNKNOWN_VERSION',
      'a bare card (invite version 2), refused as before',
    );
    assert.equal(
      errorCode(() => parseInviteLink('p2pcomm:!!')),
      'BAD_LINK',
    );
    const p = parseInviteLink(`  https://example.invalid/#${short.toLink()}  `);
    assert.equal(p.kind === 'short' && bytesToHex(p.short.locator), bytesToHex(short.locator));
  });
});

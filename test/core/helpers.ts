/** Test fixtures shared by the core tests: identities with cards and session managers. */
import assert from 'node:assert/strict';
import { Address, AddressVersion } from '../../src/kaspa/address.ts';
import { Identity } from '../../src/core/identity/identity.ts';
import type { ContactCard } from '../../src/core/contact/card.ts';
import {
  SessionManager,
  type Received,
  type SessionManagerOptions,
} from '../../src/core/session/session-manager.ts';
import { P2pCommError } from '../../src/util/errors.ts';

/** A user of the tests: identity, card, sessions, and a settable clock. */
export interface TestUser {
  readonly identity: Identity;
  readonly card: ContactCard;
  readonly sessions: SessionManager;
  readonly clock: { now: number };
}

/** A fresh identity with a card (one testnet address) and an empty session manager. */
export function makeUser(name: string, options: SessionManagerOptions = {}, seed?: Uint8Array): TestUser {
  const identity = seed === undefined ? Identity.generate() : Identity.fromSeed(seed);
  const clock = { now: 1_760_000_000_000 };
  const sessions = SessionManager.create(identity, { now: () => clock.now, ...options });
  const card = sessions.issueOwnCard({
    displayName: name,
    addresses: [new Address('kaspatest', AddressVersion.PubKey, identity.publicKey)],
    issuedAt: 1_760_000_000,
  });
  return { identity, card, sessions, clock };
}

/** Two users who know each other's cards. */
export function makePair(options: SessionManagerOptions = {}): [TestUser, TestUser] {
  const a = makeUser('alice', options);
  const b = makeUser('bob', options);
  a.sessions.addContact(b.card);
  b.sessions.addContact(a.card);
  return [a, b];
}

/** UTF-8 text to bytes and back, for readable assertions. */
export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** One message over a session: `from` encrypts `message` to `to`, who decrypts it. */
export function deliver(from: TestUser, to: TestUser, message: string): Received {
  return to.sessions.decrypt(from.sessions.encrypt(to.identity.peerId, enc(message)));
}

/**
 * The `code` of the typed error `fn` throws, or "none" when it returns; anything thrown that is
 * not a `type` (by default any `P2pCommError`) fails the test.
 */
export function errorCode(
  fn: () => unknown,
  type: abstract new (...args: never[]) => P2pCommError = P2pCommError,
): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof type, `expected ${type.name}, got ${String(e)}`);
    return e.code;
  }
  return 'none';
}

/**
 * The 8-byte words of a batch body at frame alignment (envelope/batch.ts): every frame
 * starts on one, so a tag repeated by two frames (a message key used twice) shows as a
 * repeated word, while random fill and ciphertext never repeat.
 */
export function batchWords(payload: Uint8Array): string[] {
  const BODY = 5; // "p2pc" | version
  const out: string[] = [];
  for (let at = BODY; at + 8 <= payload.length; at += 8)
    out.push(Buffer.from(payload.subarray(at, at + 8)).toString('hex'));
  return out;
}

/**
 * True when a stored key is opaque parts only (storage/opaque.ts): 0x01 + 16-byte tag per
 * part, 0x15 + u64 for a trailing integer, or 0xff + 16-byte tag for a key that is no tuple.
 */
export function isOpaqueKey(key: Uint8Array): boolean {
  if (key.length === 17 && key[0] === 0xff) return true;
  let i = 0;
  while (i < key.length) {
    if (key[i] === 0x01 && i + 17 <= key.length) i += 17;
    else if (key[i] === 0x15 && i + 9 === key.length) i += 9;
    else return false;
  }
  return key.length > 0;
}

/** What `fn` throws, or undefined when it returns. */
export function catching(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

/**
 * What one chain publication of 100-character texts costs, built by the real session layer and
 * transaction builder (no network): the figures of bench/delivery.bench.ts and of
 * costs.test.ts, which holds them to issue 11's ceilings (docs/privacy.md "What it costs").
 */
import type { ContactCard } from '../../../src/core/contact/card.ts';
import {
  buildPayment,
  randomNotificationValue,
  type BuiltTransaction,
} from '../../../src/core/delivery/chain-tx.ts';
import type { ChatFrame } from '../../../src/core/delivery/frames.ts';
import { EnvelopeSessions } from '../../../src/core/delivery/sessions.ts';
import type { BatchOptions } from '../../../src/core/envelope/batch.ts';
import { SessionManager } from '../../../src/core/session/session-manager.ts';
import { payToPubKey } from '../../../src/kaspa/script.ts';
import { SOMPI_PER_KAS, type TxId } from '../../../src/kaspa/types.ts';
import { randomBytes } from '../../../src/util/bytes.ts';
import { seededRandom } from '../../privacy/observer.ts';
import { ChainUser } from './kaspa.ts';

/**
 * Which message of a conversation: `steady`, one of an established session (card and one-time
 * keys handed over already); `first`, the first, carrying the PQXDH first-contact frame;
 * `announce`, the first after the first reply, handing over the full card (ML-KEM pre-key) and
 * a batch of one-time pre-keys, as again after every card rotation (docs/crypto.md).
 */
export type MessageKind = 'steady' | 'first' | 'announce';

/** Issue 11's figures per message (chain format 1, before the post-quantum handshake). */
export const ISSUE_11_REFERENCE: Readonly<Record<number, bigint>> = { 1: 254_800n, 10: 47_280n, 50: 34_032n };

/** Buckets every 8 bytes (the container's alignment): the payload as if unpadded. */
export const UNPADDED: BatchOptions = { buckets: Array.from({ length: 4_096 }, (_, i) => 8 * (i + 1)) };

function parties(batch?: BatchOptions): {
  alice: ChainUser;
  bob: ChainUser;
  aliceSessions: EnvelopeSessions;
  bobSessions: EnvelopeSessions;
} {
  const alice = new ChainUser('alice', () => '');
  const bob = new ChainUser('bob', () => '');
  const cards = new Map<ChainUser, ContactCard>();
  const open = (u: ChainUser): EnvelopeSessions => {
    const sm = SessionManager.create(u.identity);
    // The card this manager holds the pre-keys of (not `u.card`, which another manager issued).
    cards.set(u, sm.issueOwnCard({ displayName: u.name, addresses: u.card.addresses }));
    return new EnvelopeSessions({
      self: u.identity.peerId,
      sessions: sm,
      save: async () => {},
      ...(batch ? { batch } : {}),
    });
  };
  const aliceSessions = open(alice);
  const bobSessions = open(bob);
  aliceSessions.add(cards.get(bob)!);
  bobSessions.add(cards.get(alice)!);
  return { alice, bob, aliceSessions, bobSessions };
}

/** `n` chat frames of 100 characters, dated now (a replay guard refuses a stale first contact). */
export function chatFrames(n: number): ChatFrame[] {
  return Array.from({ length: n }, (_, i) => ({
    type: 'chat',
    id: randomBytes(16),
    sentAt: Date.now() + i,
    text: 'x'.repeat(100),
  }));
}

/** Alice's payload of `n` texts to Bob as message `kind` of their conversation. */
export async function sealAs(
  kind: MessageKind,
  n: number,
  batch?: BatchOptions,
): Promise<{ alice: ChainUser; bob: ChainUser; frames: ChatFrame[]; payload: Uint8Array }> {
  const p = parties(batch);
  const { alice, bob, aliceSessions, bobSessions } = p;
  for (let round = 0; round < { steady: 2, announce: 1, first: 0 }[kind]; round++) {
    // Alice writes, Bob answers: each round hands over what rides along with the traffic.
    const hello = await aliceSessions.sealBatch([{ contact: bob.id, frames: chatFrames(1) }]);
    if ((await bobSessions.openBatch(hello)).length !== 1) throw new Error('message not opened');
    const answer = await bobSessions.sealBatch([{ contact: alice.id, frames: chatFrames(1) }]);
    if ((await aliceSessions.openBatch(answer)).length !== 1) throw new Error('answer not opened');
  }
  const frames = chatFrames(n);
  return { alice, bob, frames, payload: await aliceSessions.sealBatch([{ contact: bob.id, frames }]) };
}

/**
 * The format-2 publication of `payload` from Alice to Bob (chain-tx.ts `buildPayment`): a
 * notification coin, a decoy coin and change from one 100-KAS coin; and the same without
 * the decoy, which prices the third output.
 */
export function priced(
  alice: ChainUser,
  bob: ChainUser,
  payload: Uint8Array,
  seed: number,
): { built: BuiltTransaction; withoutDecoy: BuiltTransaction } {
  const funding = {
    utxo: {
      outpoint: { transactionId: randomBytes(32) as TxId, index: 0 },
      entry: {
        amount: 100n * SOMPI_PER_KAS,
        scriptPublicKey: payToPubKey(alice.wallet.publicKey(0, 0, 0)),
        blockDaaScore: 0n,
        isCoinbase: false,
      },
    },
    privateKey: alice.wallet.privateKey(0, 0, 0),
    origin: 'own',
  };
  const random = seededRandom(seed);
  const request = {
    payload,
    payments: [{ address: bob.address, value: randomNotificationValue(random, undefined, 2) }],
    funding: [funding],
    changeAddress: alice.wallet.address('kaspasim', 0, 1, 0),
    random,
  };
  const decoy = {
    address: alice.wallet.address('kaspasim', 0, 1, 1),
    value: randomNotificationValue(random, undefined, 2),
  };
  return { built: buildPayment({ ...request, decoys: [decoy] }), withoutDecoy: buildPayment(request) };
}

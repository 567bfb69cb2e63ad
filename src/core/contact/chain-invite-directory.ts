/**
 * Sealed invites on Kaspa (docs/protocol.md "Short invite on chain"): the `InviteCardDirectory`
 * with no server. Publishing puts the sealed invite in one transaction payload that pays a coin
 * to an address derived from the locator; finding asks the node for the coins at that address
 * and fetches each one's transaction as a notified coin's payload is fetched (PayloadFetcher,
 * FACTS §6.6: no transaction index, the virtual chain from the pruning point).
 *
 *   t       = OS2IP(HKDF-SHA256(ikm = locator, salt = none,
 *                               info = "p2pcomm/v1/short-invite/address", 48 bytes)) mod n; 0 → 1
 *   address = P2PK Schnorr of x(t·G)
 *   payload = "p2pc" | u8 2 | sealed invite | random bytes to INVITE_PAYLOAD_BYTES
 *
 * Only a holder of the short invite's secret knows the locator, so only it can name the
 * address or the key t; to everyone else the address is one more fresh P2PK address and the
 * payload a batch container of one of its buckets, a size messages have (docs/privacy.md "Short invites"). The key t is shared by all who hold the secret:
 * any of them can spend the coin, which removes the invite from the address (the full link
 * still works); the inviter takes the coin back the same way (`reclaim`) once the invite is
 * used or replaced.
 */
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import {
  Address,
  AddressVersion,
  addressToScriptPublicKey,
  type NetworkPrefix,
} from '../../kaspa/address.ts';
import { buildSweep } from '../../kaspa/builder.ts';
import { PayloadFetcher } from '../../kaspa/payload-fetch.ts';
import { signTransaction } from '../../kaspa/sign.ts';
import type { TxId } from '../../kaspa/types.ts';
import type { KaspaNode } from '../../kaspa/rpc/node.ts';
import type { AddressedUtxo } from '../../kaspa/rpc/convert.ts';
import { bytesToHex, equalBytes, hexToBytes, randomBytes, utf8ToBytes } from '../../util/bytes.ts';
import { assertBytes } from '../../util/errors.ts';
import { DEFAULT_BUCKETS } from '../envelope/batch.ts';
import { MAX_CANDIDATES, SEALED_INVITE_BYTES, type InviteCardDirectory } from './short-invite.ts';

/** The batch container's magic and version, which every p2pComm payload starts with. */
const HEADER = Uint8Array.of(...utf8ToBytes('p2pc'), 2);
/**
 * Bytes of an invite publication's payload: the smallest batch-container bucket that holds the
 * sealed invite (3,072 B with the card of version 3, the bucket of the message that hands over
 * a full card), so its length is one a message has.
 */
export const INVITE_PAYLOAD_BYTES: number = DEFAULT_BUCKETS.find(
  (b) => b >= HEADER.length + SEALED_INVITE_BYTES,
)!;
/** Payload fetches of one coin before it is left out (0.2 + 0.4 + 0.8 s of waits at most). */
const FETCH_TRIES = 4;
const ADDRESS_INFO = utf8ToBytes('p2pcomm/v1/short-invite/address');
/** The coin pool invite publications are paid from (docs/privacy.md "Short invites"). */
export const INVITE_POOL = 'short-invites';

/**
 * Coins one reclaim spends at most: an honest address holds one, but a link holder may pay
 * more there; 80 P2PK inputs stay under the reference wallet's 100,000-gram compute cap.
 */
const MAX_RECLAIM_INPUTS = 80;

/** A reclaim's transaction: the value that came back to the wallet, and the fee it paid. */
export interface InviteReclaim {
  readonly txId: TxId;
  readonly amount: bigint;
  readonly fee: bigint;
}

/** What publishes for the directory: the Kaspa chain adapter (`KaspaChain.publishToAddress`). */
export interface InvitePublisher {
  publishToAddress(
    payload: Uint8Array,
    address: Address,
    pool: string,
  ): Promise<{ readonly txId: Uint8Array }>;
}

/** Everything a `ChainInviteDirectory` is built from. */
export interface ChainInviteDirectoryOptions {
  /** A connected node client (`getUtxosByAddresses` needs the node's UTXO index). */
  readonly node: KaspaNode;
  /** The network's address prefix. */
  readonly prefix: NetworkPrefix;
  /** Publishes invite transactions; without it `publish` throws (a reader only). */
  readonly publisher?: InvitePublisher;
  /** Fetches payloads. @default a PayloadFetcher of `node` */
  readonly fetcher?: PayloadFetcher;
}

const N = secp256k1.Point.Fn.ORDER;

/** The spending key t of the locator's address (module doc), 32 bytes big-endian. */
export function locatorKey(locator: Uint8Array): Uint8Array {
  assertBytes('locator', locator, 32);
  const t = BigInt(`0x${bytesToHex(hkdf(sha256, locator, undefined, ADDRESS_INFO, 48))}`) % N;
  return hexToBytes((t === 0n ? 1n : t).toString(16).padStart(64, '0'));
}

/** The address a sealed invite at `locator` pays (module doc). */
export function locatorAddress(locator: Uint8Array, prefix: NetworkPrefix): Address {
  return new Address(prefix, AddressVersion.PubKey, schnorr.getPublicKey(locatorKey(locator)));
}

/** The chain payload carrying `sealed` (module doc). */
export function invitePayload(sealed: Uint8Array): Uint8Array {
  assertBytes('sealed', sealed, SEALED_INVITE_BYTES);
  const out = randomBytes(INVITE_PAYLOAD_BYTES);
  out.set(HEADER);
  out.set(sealed, HEADER.length);
  return out;
}

/** The sealed invite a payload carries, or undefined when it is not an invite payload. */
export function sealedOf(payload: Uint8Array): Uint8Array | undefined {
  if (payload.length !== INVITE_PAYLOAD_BYTES) return undefined;
  if (!equalBytes(payload.subarray(0, HEADER.length), HEADER)) return undefined;
  return payload.slice(HEADER.length, HEADER.length + SEALED_INVITE_BYTES);
}

/** Sealed invites kept in Kaspa transaction payloads, found by their locator's address. */
export class ChainInviteDirectory implements InviteCardDirectory {
  readonly #opts: ChainInviteDirectoryOptions;
  readonly #fetcher: PayloadFetcher;

  constructor(opts: ChainInviteDirectoryOptions) {
    this.#opts = opts;
    this.#fetcher = opts.fetcher ?? new PayloadFetcher(opts.node);
  }

  /**
   * Publishes `sealed` at `locator`: one transaction (module doc). Errors of the publisher
   * (DeliveryError INSUFFICIENT_FUNDS when the wallet cannot pay, PUBLISH_FAILED).
   */
  async publish(locator: Uint8Array, sealed: Uint8Array): Promise<void> {
    const publisher = this.#opts.publisher;
    if (publisher === undefined) throw new TypeError('this directory has no publisher');
    await publisher.publishToAddress(
      invitePayload(sealed),
      locatorAddress(locator, this.#opts.prefix),
      INVITE_POOL,
    );
  }

  /**
   * The sealed invites paying the locator's address, newest first: at most MAX_CANDIDATES
   * coins are fetched, whatever the node lists. A coin whose transaction the node does not
   * have, that does not pay the address at its outpoint, or whose payload is not an invite
   * payload is left out; the caller checks the seal, the card and the fingerprint of the rest.
   */
  async find(
    locator: Uint8Array,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<readonly Uint8Array[]> {
    const address = locatorAddress(locator, this.#opts.prefix);
    const text = address.toString();
    const script = addressToScriptPublicKey(address).script;
    const call = options.signal ? { signal: options.signal } : {};
    const listed: AddressedUtxo[] = await this.#opts.node.getUtxosByAddresses([text], call);
    const coins = listed
      .filter((u) => u.address === null || u.address === text)
      .sort((a, b) => (a.entry.blockDaaScore > b.entry.blockDaaScore ? -1 : 1))
      .slice(0, MAX_CANDIDATES);
    if (coins.length === 0) return [];
    const from = (await this.#opts.node.getBlockDagInfo(call)).pruningPointHash;
    const out: Uint8Array[] = [];
    const seen = new Set<string>();
    for (const u of coins) {
      options.signal?.throwIfAborted();
      const key = bytesToHex(u.outpoint.transactionId);
      if (seen.has(key)) continue;
      seen.add(key);
      // A node may list a coin before its chain view reaches the accepting block (the
      // adapter's payload fetch tries again for the same reason): a few tries, then left out.
      let r = await this.#fetcher.fetch(
        u.outpoint.transactionId,
        { cursor: from, acceptingDaaScore: u.entry.blockDaaScore },
        call,
      );
      for (let tries = 1; r.status === 'not-found' && tries < FETCH_TRIES; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** tries));
        options.signal?.throwIfAborted();
        r = await this.#fetcher.fetch(
          u.outpoint.transactionId,
          { cursor: from, acceptingDaaScore: u.entry.blockDaaScore },
          call,
        );
      }
      if (r.status !== 'found') continue;
      // The fetcher checked the id; the output at the outpoint must pay this address, so a node
      // cannot list the payload of a transaction that never paid it.
      const paid = r.transaction.outputs[u.outpoint.index];
      if (paid === undefined || !equalBytes(paid.scriptPublicKey.script, script)) continue;
      const sealed = sealedOf(r.payload);
      if (sealed !== undefined) out.push(sealed);
    }
    return out;
  }

  /**
   * Takes back the coins at the locator's address (docs/privacy.md "Short invites", "Taking
   * the coin back"): one transaction spending them all, signed with the locator's key t, into
   * one output to `to` (a fresh address of the invite pool), the fee taken from it. One input
   * and one output keep the storage mass near zero under the relaxed KIP-9 formula (FACTS
   * §4.4), so the fee is the relay floor: 162,400 sompi (0.0016 KAS) for one coin. Coins of a transaction not
   * accepted yet are listed by the node once it is, so an invite just published is taken back
   * on a later call. Resolves undefined when the address holds nothing (the coin was taken
   * already, by this inviter or by a holder of the link, who shares t); RpcError
   * REJECTED_TRANSACTION when the node refuses the spend (a holder spent it first).
   */
  async reclaim(
    locator: Uint8Array,
    to: Address,
    options: { readonly feerate?: number; readonly signal?: AbortSignal } = {},
  ): Promise<InviteReclaim | undefined> {
    if (to.prefix !== this.#opts.prefix)
      throw new TypeError(`"to" is on ${to.prefix}, not on ${this.#opts.prefix}`);
    const address = locatorAddress(locator, this.#opts.prefix);
    const text = address.toString();
    const call = options.signal ? { signal: options.signal } : {};
    const coins = (await this.#opts.node.getUtxosByAddresses([text], call)).filter(
      (u) => u.address === null || u.address === text,
    );
    if (coins.length === 0) return undefined;
    const built = buildSweep(
      coins.slice(0, MAX_RECLAIM_INPUTS),
      to,
      options.feerate === undefined ? {} : { feerate: options.feerate },
    );
    const key = locatorKey(locator);
    const signed = signTransaction(
      built.tx,
      built.spent,
      built.spent.map(() => key),
    );
    options.signal?.throwIfAborted();
    const txId = await this.#opts.node.submitTransaction(signed, call);
    return { txId, amount: built.tx.outputs[0]!.value, fee: built.fee };
  }
}

/**
 * What an attachment costs on the chain path, before it is sent, in the app's own terms
 * (issue 14: "uses about 40 of your secure messages"). Every chunk rides its own ratchet
 * frame; with the default 12 KiB chunks and 16 KiB payload limit a transaction carries one
 * chunk, and the manifest goes with the first publication's batch of small frames. Each
 * transaction pays its relay fee (FACTS §4.5) and, like a message, a notification coin that
 * the recipient returns as its receipt (NOTES §1), so its price is one "secure message"
 * plus the fee of its larger payload.
 */
import { batchSize, DEFAULT_BUCKETS } from '../envelope/batch.ts';
import { paddedLength } from '../envelope/padding.ts';
import { FRAME_OVERHEAD } from '../session/ratchet.ts';
import { typicalPublicationFee } from '../delivery/chain-tx.ts';
import { assertBigInt, assertInteger } from '../../util/errors.ts';
import { CHUNK_TAG_BYTES } from './cipher.ts';
import { chunkLength, type Manifest } from './manifest.ts';

/** Envelope header: version, type, id[16], timestamp. */
const ENVELOPE_HEADER = 1 + 1 + 16 + 8;

function varUintBytes(n: number): number {
  let bytes = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    bytes++;
  }
  return bytes;
}

/** Bytes of the ratchet frame of an envelope of `envelopeBytes` (padding, header, tags). */
export function frameBytes(envelopeBytes: number): number {
  return paddedLength(envelopeBytes + 1) + FRAME_OVERHEAD;
}

/** Envelope bytes of chunk `index` of `m` (type 17). */
export function chunkEnvelopeBytes(
  m: Pick<Manifest, 'size' | 'chunkSize' | 'chunkCount'>,
  index: number,
): number {
  const sealed = chunkLength(m, index) + CHUNK_TAG_BYTES;
  return ENVELOPE_HEADER + 16 + varUintBytes(index) + varUintBytes(sealed) + sealed;
}

/** Envelope bytes of a manifest of `manifestBytes` (type 16). */
export function manifestEnvelopeBytes(manifestBytes: number): number {
  return ENVELOPE_HEADER + varUintBytes(manifestBytes) + manifestBytes;
}

/** The price inputs, from the chain adapter's `Funds`. */
export interface ChainPrices {
  /** What one chain message costs now (`Funds.costPerMessage`). */
  readonly costPerMessage: bigint;
  /** Spendable value (`Funds.spendable`), to say whether the wallet can pay. */
  readonly spendable: bigint;
  /** Largest payload of one transaction (`DeliverySettings.maxPayloadBytes`). @default 16_384 */
  readonly maxPayloadBytes?: number;
}

/** The chain cost of one attachment. */
export interface ChainPlan {
  /** Transactions it takes (one per chunk at the default sizes). */
  readonly transactions: number;
  /** Payload bytes on chain, padding included. */
  readonly payloadBytes: number;
  /** Sompi it costs: relay fees and notification coins, as `costPerMessage` counts them. */
  readonly sompi: bigint;
  /** The same in secure messages, rounded up. */
  readonly secureMessages: number;
  /** Secure messages the wallet pays for now. */
  readonly messagesLeft: number;
  /** True when the wallet cannot pay for all of it now. */
  readonly insufficient: boolean;
}

/**
 * The chain cost of `m` whose manifest encodes to `manifestBytes`. RangeError when one chunk
 * cannot fit the payload limit (use smaller chunks for such a limit).
 */
export function planChain(
  m: Pick<Manifest, 'size' | 'chunkSize' | 'chunkCount'>,
  manifestBytes: number,
  prices: ChainPrices,
): ChainPlan {
  assertInteger('manifestBytes', manifestBytes, 1, 1 << 20);
  assertBigInt('costPerMessage', prices.costPerMessage, 1n, 2n ** 63n);
  assertBigInt('spendable', prices.spendable, 0n, 2n ** 63n);
  const maxPayloadBytes = prices.maxPayloadBytes ?? 16_384;
  const options = { maxPayloadBytes, buckets: DEFAULT_BUCKETS };
  const base = typicalPublicationFee();
  const perMessageExtra = prices.costPerMessage > base ? prices.costPerMessage - base : 0n;
  let payloadBytes = 0;
  let sompi = 0n;
  const payload = (frame: number): void => {
    const size = batchSize([{ bytes: new Uint8Array(frame), firstContact: false }], options);
    if (size === undefined)
      throw new RangeError(`a ${frame}-byte frame exceeds the ${maxPayloadBytes}-byte payload limit`);
    payloadBytes += size;
    sompi += perMessageExtra + typicalPublicationFee(size);
  };
  payload(frameBytes(manifestEnvelopeBytes(manifestBytes)));
  for (let i = 0; i < m.chunkCount; i++) payload(frameBytes(chunkEnvelopeBytes(m, i)));
  const secureMessages = Number((sompi + prices.costPerMessage - 1n) / prices.costPerMessage);
  const messagesLeft = Number(prices.spendable / prices.costPerMessage);
  return {
    transactions: m.chunkCount + 1,
    payloadBytes,
    sompi,
    secureMessages,
    messagesLeft,
    insufficient: prices.spendable < sompi,
  };
}

/** The plan in words for the "send now / wait until online" choice. */
export function describePlan(plan: ChainPlan): string {
  const uses = `uses about ${plan.secureMessages} of your secure messages`;
  return plan.insufficient
    ? `Sending this while your contact is offline ${uses}; you have ${plan.messagesLeft} left.`
    : `Sending this while your contact is offline ${uses} (${plan.messagesLeft} left).`;
}

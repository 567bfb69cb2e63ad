/**
 * Chain evidence for incoming messages. The engine records which transaction carried an
 * outgoing message (its `ChainProof`) but not which carried an incoming one, so this
 * `ChainPort` decorator notes the transaction being processed while the engine handles it;
 * every chat message the engine stores from a chain payload during that call came in it
 * (the engine processes incoming transactions one at a time, and only they yield chain
 * messages). The records are kept in `app.proofs`, sealed at rest.
 */
import type {
  ChainAcceptance,
  ChainHandler,
  ChainPort,
  ContactId,
  Funds,
  IncomingTransaction,
  Publication,
  PublishOptions,
} from '../../core/delivery/ports.ts';
import type { KeyValueStore } from '../../storage/types.ts';
import { bytesToHex, bytesToUtf8, utf8ToBytes } from '../../util/bytes.ts';
import { PROOFS_STORE } from './profile.ts';

/** Where an incoming message was published. */
export interface IncomingEvidence {
  /** Transaction id, 64 hex characters. */
  readonly txId: string;
  readonly acceptingBlockHash?: string;
  readonly acceptingDaaScore?: bigint;
}

function encode(e: IncomingEvidence): Uint8Array {
  return utf8ToBytes(
    JSON.stringify({
      txId: e.txId,
      acceptingBlockHash: e.acceptingBlockHash,
      acceptingDaaScore: e.acceptingDaaScore?.toString(),
    }),
  );
}

/** Undefined for a record that is not what `encode` wrote (it is then simply not shown). */
function decode(bytes: Uint8Array): IncomingEvidence | undefined {
  try {
    const o = JSON.parse(bytesToUtf8(bytes)) as Record<string, unknown>;
    const { txId, acceptingBlockHash: hash, acceptingDaaScore: score } = o;
    if (typeof txId !== 'string' || !/^[0-9a-f]{64}$/.test(txId)) return undefined;
    return {
      txId,
      ...(typeof hash === 'string' && /^[0-9a-f]{64}$/.test(hash) ? { acceptingBlockHash: hash } : {}),
      ...(typeof score === 'string' && /^\d{1,20}$/.test(score) ? { acceptingDaaScore: BigInt(score) } : {}),
    };
  } catch {
    return undefined;
  }
}

/** What earlier sessions recorded, by message id (also read while the engine is not running). */
export async function loadEvidence(db: KeyValueStore): Promise<Map<string, IncomingEvidence>> {
  const known = new Map<string, IncomingEvidence>();
  for (const [key, value] of await db.scan(PROOFS_STORE)) {
    const e = decode(value);
    if (e !== undefined) known.set(bytesToUtf8(key), e);
  }
  return known;
}

/** The decorator; `note` is called from the engine's listener for each incoming chain message. */
export class EvidenceRecorder implements ChainPort {
  readonly #inner: ChainPort;
  readonly #db: KeyValueStore;
  readonly #known: Map<string, IncomingEvidence>;
  #current: IncomingTransaction | undefined;

  private constructor(inner: ChainPort, db: KeyValueStore, known: Map<string, IncomingEvidence>) {
    this.#inner = inner;
    this.#db = db;
    this.#known = known;
  }

  /** Wraps `inner`, loading what earlier sessions recorded. */
  static async open(inner: ChainPort, db: KeyValueStore): Promise<EvidenceRecorder> {
    return new EvidenceRecorder(inner, db, await loadEvidence(db));
  }

  /** The evidence of an incoming message, if it came by chain. */
  get(messageId: string): IncomingEvidence | undefined {
    return this.#known.get(messageId);
  }

  /** Records that incoming message `messageId` came in the transaction being processed. */
  note(messageId: string): Promise<void> {
    const tx = this.#current;
    if (tx === undefined || this.#known.has(messageId)) return Promise.resolve();
    const e: IncomingEvidence = {
      txId: bytesToHex(tx.txId),
      ...(tx.acceptance === undefined
        ? {}
        : {
            acceptingBlockHash: bytesToHex(tx.acceptance.blockHash),
            acceptingDaaScore: tx.acceptance.daaScore,
          }),
    };
    this.#known.set(messageId, e);
    return this.#db.put(PROOFS_STORE, utf8ToBytes(messageId), encode(e));
  }

  start(handler: ChainHandler, cursor: Uint8Array | undefined): Promise<void> {
    return this.#inner.start(
      {
        incoming: async (tx: IncomingTransaction): Promise<readonly ContactId[]> => {
          this.#current = tx;
          try {
            return await handler.incoming(tx);
          } finally {
            this.#current = undefined;
          }
        },
        accepted: (txId: Uint8Array, acceptance: ChainAcceptance) => handler.accepted(txId, acceptance),
        dropped: (txId: Uint8Array) => handler.dropped(txId),
        settled: (txId: Uint8Array) => handler.settled?.(txId),
        funds: (funds: Funds) => handler.funds(funds),
        checkpoint: (c: Uint8Array) => handler.checkpoint(c),
      },
      cursor,
    );
  }

  publish(
    payload: Uint8Array,
    recipients: readonly ContactId[],
    options?: PublishOptions,
  ): Promise<Publication> {
    return this.#inner.publish(payload, recipients, options);
  }

  funds(): Promise<Funds> {
    return this.#inner.funds();
  }

  stop(): Promise<void> {
    return this.#inner.stop();
  }
}

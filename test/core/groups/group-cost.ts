/**
 * What one group message costs on chain beside a 1:1 message (docs/groups.md §5): the payload
 * bucket of one publication and its relay fee, and the pairwise bytes of one key rotation after
 * a removal. The publication shape (one notification coin, one decoy, change) is the same for
 * both, so only the payload differs. Shared by `cost.test.ts` and `bench/groups.bench.ts`.
 */
import { batchSize } from '../../../src/core/envelope/batch.ts';
import { createEnvelope, encodeEnvelope } from '../../../src/core/envelope/envelope.ts';
import { pad } from '../../../src/core/envelope/padding.ts';
import { typicalPublicationFee } from '../../../src/core/delivery/chain-tx.ts';
import { DISTRIBUTION_BYTES, type GroupContent } from '../../../src/core/groups/index.ts';
import { makePair } from '../helpers.ts';
import { TestGroup, type Member } from './group-fixture.ts';

const TEXT = 'x'.repeat(100);
/** Bytes a ratchet frame adds to its padded plaintext (docs/protocol.md "Ratchet frame"). */
const RATCHET_OVERHEAD = 81;
/** Envelope header (version, type, id, time) and the varbytes length of a carried distribution. */
const ENVELOPE_AROUND_DISTRIBUTION = 26 + 2;

/** One row: the 1:1 reference has `members` 2 and no rotation. */
export interface CostRow {
  readonly members: number | '1:1';
  readonly frameBytes: number;
  readonly payloadBytes: number;
  readonly fee: bigint;
  /** Pairwise bytes of one sender's rotation after one member of `members` is removed. */
  readonly rotationBytes?: number;
  /** Payload bucket of the publication carrying the rotation and the first message, if it fits one. */
  readonly rotationPayload?: number;
  readonly rotationFee?: bigint;
}

const bucket = (frames: readonly Uint8Array[]): number | undefined =>
  batchSize(frames.map((bytes) => ({ bytes, firstContact: false })));

function oneToOneFrame(): Uint8Array {
  const [a, b] = makePair();
  const env = () => pad(encodeEnvelope(createEnvelope({ type: 'chat', text: TEXT })));
  b.sessions.decrypt(a.sessions.encrypt(b.identity.peerId, env()));
  a.sessions.decrypt(b.sessions.encrypt(a.identity.peerId, env()));
  return a.sessions.encrypt(b.identity.peerId, env());
}

/** The 1:1 row, then one row per member count, all measured now. */
export function groupCostRows(sizes: readonly number[] = [5, 20, 100]): CostRow[] {
  const single = oneToOneFrame();
  const singleBucket = bucket([single]) ?? NaN;
  const rows: CostRow[] = [
    {
      members: '1:1',
      frameBytes: single.length,
      payloadBytes: singleBucket,
      fee: typicalPublicationFee(singleBucket),
    },
  ];
  const content: GroupContent = {
    kind: 'envelope',
    bytes: encodeEnvelope(createEnvelope({ type: 'chat', text: TEXT })),
  };
  for (const n of sizes) {
    const g = new TestGroup(n);
    const sealed = (g.members[0] as Member).session.seal(content);
    const payload = bucket([sealed.frame]) ?? NaN;
    const perDevice =
      RATCHET_OVERHEAD + pad(new Uint8Array(ENVELOPE_AROUND_DISTRIBUTION + DISTRIBUTION_BYTES)).length;
    const others = n - 2;
    const rotationPayload = bucket([
      sealed.frame,
      ...Array.from({ length: others }, () => new Uint8Array(perDevice)),
    ]);
    rows.push({
      members: n,
      frameBytes: sealed.frame.length,
      payloadBytes: payload,
      fee: typicalPublicationFee(payload),
      rotationBytes: others * perDevice,
      ...(rotationPayload === undefined
        ? {}
        : { rotationPayload, rotationFee: typicalPublicationFee(rotationPayload) }),
    });
  }
  return rows;
}

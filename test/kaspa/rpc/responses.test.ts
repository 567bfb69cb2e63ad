import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { transactionFromRpc, transactionToRpc } from '../../../src/kaspa/rpc/convert.ts';
import { parseJson } from '../../../src/kaspa/rpc/json.ts';
import {
  blockDagInfoFromRpc,
  blockFromRpc,
  blockHeaderFromRpc,
  feeEstimateFromRpc,
  submitBlockReportFromRpc,
  utxosChangedFromRpc,
  virtualChainChangedFromRpc,
  virtualChainV2FromRpc,
} from '../../../src/kaspa/rpc/responses.ts';
import { RpcFieldError } from '../../../src/kaspa/rpc/fields.ts';
import { DecodeError } from '../../../src/util/errors.ts';
import { bytesToHex } from '../../../src/util/bytes.ts';
import { FACTS_SUBMIT_TX_JSON, FACTS_UTXOS_CHANGED_JSON } from './fixtures.ts';

const H = (n: number): string => n.toString(16).padStart(64, '0');
const tx = transactionFromRpc(parseJson(FACTS_SUBMIT_TX_JSON));

/** An accepted transaction as getVirtualChainFromBlockV2 sends it at High: absent options are null. */
function highVerbosityTx(): Record<string, unknown> {
  const full = transactionToRpc(tx) as unknown as Record<string, unknown>;
  return {
    ...full,
    version: null,
    lockTime: null,
    subnetworkId: null,
    gas: null,
    verboseData: { transactionId: H(7), hash: H(8), computeMass: 2236, blockHash: null, blockTime: null },
  };
}

describe('response decoders', () => {
  it('decode the FACTS §6.4 UtxosChanged body', () => {
    const frame = parseJson(FACTS_UTXOS_CHANGED_JSON) as { params: { UtxosChanged: unknown } };
    const n = utxosChangedFromRpc(frame.params.UtxosChanged);
    assert.equal(n.added.length, 1);
    assert.equal(n.removed.length, 0);
    assert.equal(n.added[0]!.entry.blockDaaScore, 123_456n);
  });

  it('read getVirtualChainFromBlockV2 at every verbosity: ids from Low, payload from High, transaction at Full', () => {
    const header = { hash: H(1), daaScore: 500, blueScore: 400, version: null, parentsByLevel: null };
    const low = { ...highVerbosityTx(), payload: null, storageMass: null, mass: null };
    const vc = virtualChainV2FromRpc({
      removedChainBlockHashes: [],
      addedChainBlockHashes: [H(1)],
      chainBlockAcceptedTransactions: [
        {
          chainBlockHeader: header,
          acceptedTransactions: [
            {},
            low,
            highVerbosityTx(),
            { ...transactionToRpc(tx), verboseData: { transactionId: H(9) } },
          ],
        },
      ],
    });
    const [none, lowT, high, full] = vc.chainBlockAcceptedTransactions[0]!.acceptedTransactions;
    assert.deepEqual(none, {});
    assert.equal(bytesToHex(lowT!.transactionId!), H(7));
    assert.equal(lowT!.payload, undefined);
    assert.deepEqual(high!.payload, tx.payload);
    assert.equal(high!.transaction, undefined);
    assert.deepEqual(full!.transaction, tx);
    assert.equal(vc.chainBlockAcceptedTransactions[0]!.chainBlockHeader.daaScore, 500n);
  });

  it('read headers with blue work of any hex width and block verbose data', () => {
    const h = blockHeaderFromRpc({
      hash: H(3),
      blueWork: '1f4',
      daaScore: 9007199254740993n,
      bits: 0x207fffff,
    });
    assert.equal(h.blueWork, 500n);
    assert.equal(h.daaScore, 9007199254740993n);
    const b = blockFromRpc({
      header: { hash: H(3) },
      transactions: [
        { ...transactionToRpc(tx), verboseData: { transactionId: H(4), blockHash: H(3), blockTime: 5 } },
      ],
      verboseData: { isChainBlock: true, selectedParentHash: H(2) },
    });
    assert.equal(bytesToHex(b.transactions[0]!.transactionId!), H(4));
    assert.equal(b.isChainBlock, true);
    assert.throws(() => blockHeaderFromRpc({ hash: H(3), blueWork: 'x' }), RpcFieldError);
  });

  it('read parents by level plain (getBlock) and compressed (V2 headers of kaspad 2.1)', () => {
    const hex = (hs: readonly Uint8Array[]): string[] => hs.map((h) => bytesToHex(h));
    const plain = blockHeaderFromRpc({ hash: H(3), parentsByLevel: [[H(1), H(2)], [H(1)]] });
    assert.deepEqual(plain.parentsByLevel!.map(hex), [[H(1), H(2)], [H(1)]]);
    // As kaspad sends a V2 chain-block header: levels 0-2 share [A, B], levels 3-4 have [A].
    const compressed = blockHeaderFromRpc({
      hash: H(3),
      parentsByLevel: [
        [3, [H(1), H(2)]],
        [5, [H(1)]],
      ],
    });
    assert.deepEqual(compressed.parentsByLevel!.map(hex), [
      [H(1), H(2)],
      [H(1), H(2)],
      [H(1), H(2)],
      [H(1)],
      [H(1)],
    ]);
    for (const bad of [
      [
        [2, [H(1)]],
        [2, [H(2)]],
      ],
      [[1]],
      [[256, [H(1)]]],
      [[1, ['zz']]],
    ]) {
      assert.throws(() => blockHeaderFromRpc({ hash: H(3), parentsByLevel: bad }), RpcFieldError);
    }
  });

  it('read node state, fee estimates, chain changes and block reports', () => {
    const dag = blockDagInfoFromRpc({
      network: 'kaspa-simnet',
      blockCount: 1,
      headerCount: 1,
      tipHashes: [H(1)],
      difficulty: 1.5,
      pastMedianTime: 0,
      virtualParentHashes: [H(1)],
      pruningPointHash: H(0),
      virtualDaaScore: 18446744073709551615n,
      sink: H(1),
    });
    assert.equal(dag.virtualDaaScore, 18446744073709551615n);
    assert.equal(
      feeEstimateFromRpc({
        priorityBucket: { feerate: 1, estimatedSeconds: 0.5 },
        normalBuckets: [],
        lowBuckets: [],
      }).priorityBucket.estimatedSeconds,
      0.5,
    );
    const vcc = virtualChainChangedFromRpc({
      removedChainBlockHashes: [H(1)],
      addedChainBlockHashes: [H(2)],
      acceptedTransactionIds: [{ acceptingBlockHash: H(2), acceptedTransactionIds: [H(5)] }],
    });
    assert.equal(bytesToHex(vcc.acceptedTransactionIds[0]!.acceptedTransactionIds[0]!), H(5));
    assert.deepEqual(submitBlockReportFromRpc({ type: 'success' }), { type: 'success' });
    assert.throws(() => submitBlockReportFromRpc({ type: 'maybe' }), RpcFieldError);
  });

  it('never throw anything but a DecodeError on hostile input', () => {
    const decoders = [
      blockDagInfoFromRpc,
      blockFromRpc,
      virtualChainV2FromRpc,
      virtualChainChangedFromRpc,
      utxosChangedFromRpc,
    ];
    fc.assert(
      fc.property(fc.jsonValue(), (j) => {
        for (const d of decoders) {
          try {
            d(j);
          } catch (e) {
            assert.ok(e instanceof DecodeError, String(e));
          }
        }
      }),
    );
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseJson, stringifyJson } from '../../../src/kaspa/rpc/json.ts';
import {
  outpointFromRpc,
  outpointToRpc,
  scriptPublicKeyFromRpc,
  scriptPublicKeyToHex,
  transactionFromRpc,
  transactionToRpc,
  utxoEntryFromRpc,
  utxoEntryToRpc,
  utxosByAddressesEntryFromRpc,
  utxosByAddressesEntryToRpc,
  mempoolEntryFromRpc,
  mempoolEntryToRpc,
} from '../../../src/kaspa/rpc/convert.ts';
import { RpcFieldError } from '../../../src/kaspa/rpc/fields.ts';
import { DecodeError } from '../../../src/util/errors.ts';
import { hexToBytes } from '../../../src/util/bytes.ts';
import type { Transaction, TxId, UtxoEntry } from '../../../src/kaspa/types.ts';
import { MAX_SOMPI } from '../../../src/kaspa/types.ts';
import { arbTransaction, arbUtxoEntry, FACTS_SUBMIT_TX_JSON, FACTS_UTXOS_CHANGED_JSON } from './fixtures.ts';

const U64_MAX = (1n << 64n) - 1n;

describe('transaction converters', () => {
  it('decode the exact FACTS §6.5 submitTransaction example and encode it back', () => {
    const json = parseJson(FACTS_SUBMIT_TX_JSON);
    const tx = transactionFromRpc(json);
    assert.equal(tx.version, 0);
    assert.equal(tx.inputs.length, 1);
    assert.equal(tx.inputs[0]!.sigOpCount, 1);
    assert.equal(tx.outputs[0]!.value, 20_000_000n);
    assert.equal(tx.outputs[1]!.value, 79_776_400n);
    assert.equal(tx.outputs[0]!.scriptPublicKey.version, 0);
    assert.equal(tx.outputs[0]!.scriptPublicKey.script.length, 34);
    assert.equal(tx.payload.length, 200);
    assert.equal(tx.storageMass, 52_535n);
    // Encoding adds only `mass` (equal to storageMass) for nodes of the v1.x line.
    const expected = { ...(json as Record<string, unknown>), mass: 52535 };
    assert.deepEqual(transactionToRpc(tx), expected);
    const text = stringifyJson(transactionToRpc(tx));
    assert.equal(
      text,
      FACTS_SUBMIT_TX_JSON.replace(/\s+/g, '').replace(
        '"storageMass":52535',
        '"mass":52535,"storageMass":52535',
      ),
    );
  });

  it('round-trip every transaction, through JSON text too', () => {
    fc.assert(
      fc.property(arbTransaction, (tx) => {
        const rpc = transactionToRpc(tx);
        assert.deepEqual(transactionFromRpc(rpc), tx);
        const reparsed = parseJson(stringifyJson(rpc));
        assert.deepEqual(reparsed, rpc);
        assert.deepEqual(transactionFromRpc(reparsed), tx);
      }),
    );
  });

  it('keep u64 extremes exact (u64::MAX sequence, MAX_SOMPI value)', () => {
    const json = parseJson(FACTS_SUBMIT_TX_JSON) as Record<string, unknown>;
    const text = stringifyJson(json)
      .replace('"sequence":0', `"sequence":${U64_MAX}`)
      .replace('"value":20000000', `"value":${MAX_SOMPI}`);
    const tx = transactionFromRpc(parseJson(text));
    assert.equal(tx.inputs[0]!.sequence, U64_MAX);
    assert.equal(tx.outputs[0]!.value, MAX_SOMPI);
    assert.match(stringifyJson(transactionToRpc(tx)), /"sequence":18446744073709551615,/);
  });

  it('accept `mass` alone, default computeBudget to 0, accept the object SPK form', () => {
    const j = parseJson(FACTS_SUBMIT_TX_JSON) as Record<string, unknown>;
    const { storageMass, ...rest } = j;
    const inputs = (j['inputs'] as Record<string, unknown>[]).map(({ computeBudget: _c, ...i }) => i);
    const outputs = (j['outputs'] as Record<string, unknown>[]).map((o) => ({
      ...o,
      scriptPublicKey: { version: 0, script: (o['scriptPublicKey'] as string).slice(4) },
    }));
    const tx = transactionFromRpc({ ...rest, inputs, outputs, mass: storageMass });
    assert.deepEqual(tx, transactionFromRpc(j));
  });

  it('name the bad field in every rejection', () => {
    const base = parseJson(FACTS_SUBMIT_TX_JSON) as Record<string, unknown>;
    const input0 = (base['inputs'] as Record<string, unknown>[])[0]!;
    const output0 = (base['outputs'] as Record<string, unknown>[])[0]!;
    const cases: [unknown, string][] = [
      [null, 'transaction'],
      [[], 'transaction'],
      [{ ...base, version: '0' }, 'transaction.version'],
      [{ ...base, version: 2 }, 'transaction.version'],
      [{ ...base, version: -1 }, 'transaction.version'],
      [{ ...base, inputs: {} }, 'transaction.inputs'],
      [{ ...base, inputs: [{ ...input0, sequence: -1 }] }, 'transaction.inputs[0].sequence'],
      [{ ...base, inputs: [{ ...input0, sequence: 1.5 }] }, 'transaction.inputs[0].sequence'],
      [{ ...base, inputs: [{ ...input0, sequence: 1n << 64n }] }, 'transaction.inputs[0].sequence'],
      [{ ...base, inputs: [{ ...input0, sequence: '0' }] }, 'transaction.inputs[0].sequence'],
      [{ ...base, inputs: [{ ...input0, sigOpCount: 256 }] }, 'transaction.inputs[0].sigOpCount'],
      [{ ...base, inputs: [{ ...input0, computeBudget: 10 }] }, 'transaction.inputs[0].computeBudget'],
      [{ ...base, version: 1 }, 'transaction.inputs[0].sigOpCount'],
      [{ ...base, inputs: [{ ...input0, signatureScript: 'abc' }] }, 'transaction.inputs[0].signatureScript'],
      [{ ...base, inputs: [{ ...input0, signatureScript: 'zz' }] }, 'transaction.inputs[0].signatureScript'],
      [
        { ...base, inputs: [{ ...input0, previousOutpoint: { transactionId: 'aa', index: 0 } }] },
        'transaction.inputs[0].previousOutpoint.transactionId',
      ],
      [
        {
          ...base,
          inputs: [{ ...input0, previousOutpoint: { transactionId: 'aa'.repeat(32), index: 2 ** 32 } }],
        },
        'transaction.inputs[0].previousOutpoint.index',
      ],
      [{ ...base, outputs: [{ ...output0, value: null }] }, 'transaction.outputs[0].value'],
      [
        { ...base, outputs: [{ ...output0, scriptPublicKey: '00' }] },
        'transaction.outputs[0].scriptPublicKey',
      ],
      [
        { ...base, outputs: [{ ...output0, scriptPublicKey: { version: 0x10000, script: '' } }] },
        'transaction.outputs[0].scriptPublicKey.version',
      ],
      [
        { ...base, outputs: [{ ...output0, covenant: { authorizingInput: 0, covenantId: '00' } }] },
        'transaction.outputs[0].covenant.covenantId',
      ],
      [{ ...base, subnetworkId: '00' }, 'transaction.subnetworkId'],
      [{ ...base, payload: undefined }, 'transaction.payload'],
      [{ ...base, gas: 1e300 }, 'transaction.gas'],
      [{ ...base, lockTime: true }, 'transaction.lockTime'],
      [{ ...base, storageMass: undefined }, 'transaction.storageMass'],
      [{ ...base, mass: 1 }, 'transaction.storageMass'],
    ];
    for (const [json, field] of cases) {
      assert.throws(
        () => transactionFromRpc(json),
        (e: unknown) => e instanceof RpcFieldError && e instanceof DecodeError && e.field === field,
        field,
      );
    }
  });

  it('never throw anything but a DecodeError on hostile input', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (j) => {
        try {
          transactionFromRpc(j);
        } catch (e) {
          assert.ok(e instanceof DecodeError);
        }
      }),
    );
  });
});

describe('UTXO, outpoint and SPK converters', () => {
  it('decode the FACTS §6.4 UtxosChanged notification entry', () => {
    const frame = parseJson(FACTS_UTXOS_CHANGED_JSON) as { params: { UtxosChanged: { added: unknown[] } } };
    const entry = utxosByAddressesEntryFromRpc(frame.params.UtxosChanged.added[0]);
    assert.equal(entry.address, 'kaspa:qrqjaalxdcvuhjqhf8nuzkhxvdj7xv7tp3zlea689p8vh8hczvdt7avlxenuw');
    assert.deepEqual(
      entry.outpoint.transactionId,
      hexToBytes('526057f14727e0d5464127ca853a23a6b013a74d01f064339fafcf4d3666588c'),
    );
    assert.equal(entry.entry.amount, 20_000_000n);
    assert.equal(entry.entry.blockDaaScore, 123_456n);
    assert.equal(entry.entry.covenantId, undefined);
    assert.deepEqual(utxosByAddressesEntryToRpc(entry), frame.params.UtxosChanged.added[0]);
  });

  it('round-trip UTXO entries, outpoints and SPKs', () => {
    fc.assert(
      fc.property(
        arbUtxoEntry,
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.nat(),
        (e: UtxoEntry, id, index) => {
          assert.deepEqual(utxoEntryFromRpc(parseJson(stringifyJson(utxoEntryToRpc(e)))), e);
          const o = { transactionId: id as TxId, index: index % 2 ** 32 };
          assert.deepEqual(outpointFromRpc(outpointToRpc(o)), o);
          assert.deepEqual(
            scriptPublicKeyFromRpc(scriptPublicKeyToHex(e.scriptPublicKey)),
            e.scriptPublicKey,
          );
        },
      ),
    );
  });

  it('write the SPK version big-endian', () => {
    assert.equal(scriptPublicKeyToHex({ version: 0x0102, script: new Uint8Array([0xac]) }), '0102ac');
    assert.deepEqual(scriptPublicKeyFromRpc('0102ac'), { version: 0x0102, script: new Uint8Array([0xac]) });
  });

  it('round-trip mempool entries with the snake_case is_orphan', () => {
    const tx: Transaction = transactionFromRpc(parseJson(FACTS_SUBMIT_TX_JSON));
    const rpc = mempoolEntryToRpc({ fee: 223_600n, transaction: tx, isOrphan: false });
    assert.equal(rpc.is_orphan, false);
    assert.deepEqual(mempoolEntryFromRpc(rpc), { fee: 223_600n, transaction: tx, isOrphan: false });
    assert.throws(() => mempoolEntryFromRpc({ ...rpc, is_orphan: 0 }), RpcFieldError);
  });

  it('refuse misuse on encode with TypeError/RangeError', () => {
    assert.throws(() => outpointToRpc({ transactionId: new Uint8Array(31) as TxId, index: 0 }), RangeError);
    assert.throws(() => scriptPublicKeyToHex({ version: 65536, script: new Uint8Array() }), RangeError);
    const tx = transactionFromRpc(parseJson(FACTS_SUBMIT_TX_JSON));
    assert.throws(() => transactionToRpc({ ...tx, lockTime: -1n }), RangeError);
    assert.throws(() => transactionToRpc({ ...tx, gas: 1 as unknown as bigint }), TypeError);
  });
});

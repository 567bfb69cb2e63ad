/** Shared test data for the wRPC tests: FACTS examples and fast-check generators of the data model. */
import fc from 'fast-check';
import type {
  ScriptPublicKey,
  Transaction,
  TxId,
  TxInput,
  TxOutput,
  UtxoEntry,
} from '../../../src/kaspa/types.ts';

/** FACTS §6.5: the complete signed v0 example, exactly as printed. */
export const FACTS_SUBMIT_TX_JSON = `{"version":0,"inputs":[{"previousOutpoint":{"transactionId":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","index":0},
 "signatureScript":"412980fab9da5a83826d35197dddd3336170e6ed97d3979a0b8ab0db1b84c6a151fbd19f3c30539933617785acaf8baba75c6e35e20d96e169013c1824d63a086701",
 "sequence":0,"sigOpCount":1,"computeBudget":0}],
 "outputs":[{"value":20000000,"scriptPublicKey":"000020c12ef7e66e19cbc81749e7c15ae66365e333cb0c45fcf747284ecb9ef8131abfac"},
            {"value":79776400,"scriptPublicKey":"000020140deed073e6f82862ad697c55a635491f702c0454927b393d980540ac6049f0ac"}],
 "lockTime":0,"subnetworkId":"0000000000000000000000000000000000000000","gas":0,
 "payload":"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7",
 "storageMass":52535}`;

/** FACTS §6.4: the UtxosChanged notification example (its `removed` list left empty). */
export const FACTS_UTXOS_CHANGED_JSON = `{"method":"utxosChangedNotification","params":{"UtxosChanged":{
  "added":[{"address":"kaspa:qrqjaalxdcvuhjqhf8nuzkhxvdj7xv7tp3zlea689p8vh8hczvdt7avlxenuw",
            "outpoint":{"transactionId":"526057f14727e0d5464127ca853a23a6b013a74d01f064339fafcf4d3666588c","index":0},
            "utxoEntry":{"amount":20000000,"scriptPublicKey":"000020c12ef7e66e19cbc81749e7c15ae66365e333cb0c45fcf747284ecb9ef8131abfac",
                         "blockDaaScore":123456,"isCoinbase":false,"covenantId":null}}],
  "removed":[]}}}`;

/** A getServerInfo answer of a synced simnet node whose virtual DAA score is u64::MAX, so u64 exactness shows. */
export const SERVER_INFO_U64_MAX = {
  rpcApiVersion: 1,
  rpcApiRevision: 0,
  serverVersion: '2.0.1',
  networkId: 'simnet',
  hasUtxoIndex: true,
  isSynced: true,
  virtualDaaScore: 18446744073709551615n,
} as const;

const rec = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> =>
  fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const bytes = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n });

export const arbSpk: fc.Arbitrary<ScriptPublicKey> = rec({
  version: fc.integer({ min: 0, max: 0xffff }),
  script: fc.uint8Array({ maxLength: 40 }),
});

export const arbTxId = bytes(32).map((b) => b as TxId);

export const arbUtxoEntry: fc.Arbitrary<UtxoEntry> = fc
  .tuple(u64, arbSpk, u64, fc.boolean(), fc.option(bytes(32), { nil: undefined }))
  .map(([amount, scriptPublicKey, blockDaaScore, isCoinbase, covenantId]) =>
    covenantId === undefined
      ? { amount, scriptPublicKey, blockDaaScore, isCoinbase }
      : { amount, scriptPublicKey, blockDaaScore, isCoinbase, covenantId },
  );

export const arbTransaction: fc.Arbitrary<Transaction> = fc.integer({ min: 0, max: 1 }).chain((version) => {
  const input: fc.Arbitrary<TxInput> = rec({
    previousOutpoint: rec({ transactionId: arbTxId, index: fc.integer({ min: 0, max: 0xffffffff }) }),
    signatureScript: fc.uint8Array({ maxLength: 70 }),
    sequence: u64,
    sigOpCount: version === 0 ? fc.integer({ min: 0, max: 255 }) : fc.constant(0),
    computeBudget: version === 1 ? fc.integer({ min: 0, max: 0xffff }) : fc.constant(0),
  });
  const output: fc.Arbitrary<TxOutput> = fc
    .tuple(
      u64,
      arbSpk,
      fc.option(rec({ authorizingInput: fc.integer({ min: 0, max: 0xffff }), covenantId: bytes(32) }), {
        nil: undefined,
      }),
    )
    .map(([value, scriptPublicKey, covenant]) =>
      covenant === undefined ? { value, scriptPublicKey } : { value, scriptPublicKey, covenant },
    );
  return rec({
    version: fc.constant(version),
    inputs: fc.array(input, { maxLength: 3 }),
    outputs: fc.array(output, { maxLength: 3 }),
    lockTime: u64,
    subnetworkId: bytes(20),
    gas: u64,
    payload: fc.uint8Array({ maxLength: 64 }),
    storageMass: u64,
  });
});

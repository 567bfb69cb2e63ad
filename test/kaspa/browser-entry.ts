/** Browser bundle entry: the library's vector checks, run inside Chromium by browser.test.ts. */
import worked from '../vectors/kaspa/worked-example.json';
import hd from '../vectors/kaspa/hd.json';
import { bytesToHex, hexToBytes } from '../../src/util/bytes.ts';
import {
  Address,
  KaspaHdWallet,
  buildTransaction,
  computeMass,
  minimumRelayFee,
  seedFromMnemonic,
  signTransaction,
  storageMass,
  transactionId,
  verifyInputSignature,
  type TxId,
} from '../../src/kaspa/index.ts';

/** The signed §6.5 transaction: signature script, id, masses and fee as hex/decimal text. */
export function workedExample(): Record<string, string | boolean> {
  const spk = { version: 0, script: hexToBytes(worked.input.spk) };
  const spent = [
    { amount: BigInt(worked.input.amount), scriptPublicKey: spk, blockDaaScore: 0n, isCoinbase: false },
  ];
  const tx = {
    version: 0,
    inputs: [
      {
        previousOutpoint: { transactionId: hexToBytes(worked.input.txid) as TxId, index: worked.input.index },
        signatureScript: new Uint8Array(0),
        sequence: 0n,
        sigOpCount: 1,
        computeBudget: 0,
      },
    ],
    outputs: [
      {
        value: BigInt(worked.recipient.value),
        scriptPublicKey: { version: 0, script: hexToBytes(worked.recipient.spk) },
      },
      {
        value: BigInt(worked.v0.change),
        scriptPublicKey: { version: 0, script: hexToBytes(worked.change.spk) },
      },
    ],
    lockTime: 0n,
    subnetworkId: new Uint8Array(20),
    gas: 0n,
    payload: Uint8Array.from({ length: worked.payloadLength }, (_, i) => i),
    storageMass: 0n,
  };
  const signed = signTransaction(tx, spent, [hexToBytes(worked.input.privateKey)], {
    auxRand: new Uint8Array(32),
  });
  return {
    signatureScript: bytesToHex(signed.inputs[0]!.signatureScript),
    transactionId: bytesToHex(transactionId(signed)),
    computeMass: computeMass(signed).toString(),
    storageMass: String(storageMass(signed, spent)),
    minimumFee: minimumRelayFee(signed).toString(),
    verifies: verifyInputSignature(signed, 0, spent),
  };
}

/** First mnemonic vector: master key, account kpub and the first leaf address. */
export function hdVector(): Record<string, string> {
  const m = hd.mnemonics[0]!;
  const w = KaspaHdWallet.fromSeed(seedFromMnemonic(m.phrase));
  return {
    master: w.extendedPrivateKey(),
    account0: w.accountExtendedPublicKey(0),
    address: w.address('kaspa', 0, 0, 0).toString(),
  };
}

/** Builds and signs a 1 KB-payload message with the builder; true when the node rules hold. */
export function buildAndVerify(): boolean {
  const w = KaspaHdWallet.fromSeed(new Uint8Array(64).fill(5));
  const me = w.address('kaspa', 0, 0, 0);
  const b = buildTransaction({
    utxos: [
      {
        outpoint: { transactionId: new Uint8Array(32).fill(1) as TxId, index: 0 },
        entry: {
          amount: 10n ** 9n,
          scriptPublicKey: { version: 0, script: hexToBytes(`20${bytesToHex(me.payload)}ac`) },
          blockDaaScore: 1n,
          isCoinbase: false,
        },
      },
    ],
    outputs: [{ to: Address.decode(hd.mnemonics[0]!.leaves[0]!.address), amount: 20_000_000n }],
    changeAddress: w.address('kaspa', 0, 1, 0),
    payload: new Uint8Array(1024).fill(1),
  });
  const signed = signTransaction(b.tx, b.spent, [w.privateKey(0, 0, 0)]);
  return verifyInputSignature(signed, 0, b.spent) && b.fee >= minimumRelayFee(signed);
}

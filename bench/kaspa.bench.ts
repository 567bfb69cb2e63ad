/**
 * Kaspa library costs, each beside its floor measured in the same run: building and signing a
 * 1-in/2-out transaction with a 1 KB payload beside raw @noble/curves Schnorr signing (the
 * signature is the irreducible part); verifying beside raw Schnorr verification; and the
 * library's browser bundle beside the spec's 1.8 MB WASM budget (spec §"wasm_core_bg.wasm").
 */
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { schnorr } from '@noble/curves/secp256k1.js';
import { KaspaHdWallet } from '../src/kaspa/hd.ts';
import { buildTransaction } from '../src/kaspa/builder.ts';
import { signTransaction, verifyInputSignature } from '../src/kaspa/sign.ts';
import { schnorrSignatureHash } from '../src/kaspa/sighash.ts';
import { transactionId } from '../src/kaspa/txid.ts';
import { payToPubKey } from '../src/kaspa/script.ts';
import type { TxId, Utxo } from '../src/kaspa/types.ts';
import { fmtRate, opsPerSecond, type Bench, type BenchTable } from './table.ts';

const WASM_BUDGET_BYTES = 1.8e6;

async function rates(): Promise<BenchTable> {
  const wallet = KaspaHdWallet.fromSeed(new Uint8Array(64).fill(9));
  const key = wallet.privateKey(0, 0, 0);
  const me = wallet.address('kaspa', 0, 0, 0);
  const change = wallet.address('kaspa', 0, 1, 0);
  const peer = wallet.address('kaspa', 1, 0, 0);
  const payload = new Uint8Array(1024).fill(0x5a);
  let n = 0;
  const coin = (): Utxo => {
    const txid = new Uint8Array(32);
    new DataView(txid.buffer).setUint32(0, n++);
    return {
      outpoint: { transactionId: txid as TxId, index: 0 },
      entry: {
        amount: 10n * 100_000_000n,
        scriptPublicKey: payToPubKey(me.payload),
        blockDaaScore: 1n,
        isCoinbase: false,
      },
    };
  };
  const buildAndSign = (): void => {
    const b = buildTransaction({
      utxos: [coin()],
      outputs: [{ to: peer, amount: 20_000_000n }],
      changeAddress: change,
      payload,
    });
    const signed = signTransaction(b.tx, b.spent, [key]);
    transactionId(signed);
  };
  const msg = new Uint8Array(32).fill(1);
  const rawSign = (): void => {
    msg[0] = (msg[0]! + 1) & 0xff;
    schnorr.sign(msg, key);
  };
  const built = buildTransaction({
    utxos: [coin()],
    outputs: [{ to: peer, amount: 20_000_000n }],
    changeAddress: change,
    payload,
  });
  const signed = signTransaction(built.tx, built.spent, [key]);
  const sig = signed.inputs[0]!.signatureScript.subarray(1, 65);
  const digest = schnorrSignatureHash(signed, 0, built.spent);
  const pub = me.payload;
  const verify = (): void => {
    if (!verifyInputSignature(signed, 0, built.spent)) throw new Error('bad signature');
  };
  const rawVerify = (): void => {
    if (!schnorr.verify(sig, digest, pub)) throw new Error('bad signature');
  };
  const buildRate = await opsPerSecond(buildAndSign, 2000);
  const signRate = await opsPerSecond(rawSign, 2000);
  const verifyRate = await opsPerSecond(verify, 2000);
  const rawVerifyRate = await opsPerSecond(rawVerify, 2000);
  return {
    title: 'Kaspa transactions (Node, single thread)',
    rows: [
      {
        name: 'build + sign + id (1 in, 2 out, 1 KB payload)',
        value: fmtRate(buildRate, 'tx/s'),
        reference: `raw Schnorr sign ${fmtRate(signRate, '/s')} (floor)`,
        note: `${((buildRate / signRate) * 100).toFixed(0)}% of the floor`,
      },
      {
        name: 'verify one P2PK input (sighash + Schnorr)',
        value: fmtRate(verifyRate, '/s'),
        reference: `raw Schnorr verify ${fmtRate(rawVerifyRate, '/s')}`,
        note: `${((verifyRate / rawVerifyRate) * 100).toFixed(0)}% of raw verify`,
      },
    ],
  };
}

async function bundle(): Promise<BenchTable> {
  const result = await build({
    entryPoints: [join(import.meta.dirname, '../src/kaspa/index.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  const js = result.outputFiles[0]!.contents;
  const gz = gzipSync(js, { level: 9 }).length;
  return {
    title: 'Kaspa library in the browser bundle',
    rows: [
      {
        name: 'esbuild src/kaspa/index.ts, minified + gzip',
        value: `${(gz / 1024).toFixed(1)} KiB (${(js.length / 1024).toFixed(1)} KiB minified)`,
        reference: `spec budget ${(WASM_BUDGET_BYTES / 1e6).toFixed(1)} MB WASM`,
        note: `${((gz / WASM_BUDGET_BYTES) * 100).toFixed(1)}% of the budget; includes noble/scure deps`,
      },
    ],
  };
}

const bench: Bench = async () => [await rates(), await bundle()];
export default bench;

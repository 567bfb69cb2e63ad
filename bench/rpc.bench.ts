/**
 * wRPC client costs: the BigInt-safe JSON codec beside the platform's JSON (which rounds
 * u64 and so cannot be used), the checked transaction converter, and a call round trip
 * beside a bare WebSocket echo on the same loopback.
 */
import { WebSocketServer, WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { KaspaRpcClient } from '../src/kaspa/rpc/client.ts';
import { transactionFromRpc, transactionToRpc } from '../src/kaspa/rpc/convert.ts';
import { parseJson, stringifyJson } from '../src/kaspa/rpc/json.ts';
import type { Transaction, TxId } from '../src/kaspa/types.ts';
import { fmtMs, fmtRate, opsPerSecond, percentile, type Bench, type BenchTable } from './table.ts';

function sampleTx(i: number, extremes = true): Transaction {
  return {
    version: 0,
    inputs: [
      {
        previousOutpoint: { transactionId: new Uint8Array(32).fill(i & 0xff) as TxId, index: i },
        signatureScript: new Uint8Array(66).fill(7),
        sequence: extremes ? 18446744073709551615n : 0n,
        sigOpCount: 1,
        computeBudget: 0,
      },
    ],
    outputs: [
      { value: 20_000_000n, scriptPublicKey: { version: 0, script: new Uint8Array(34).fill(1) } },
      {
        value: extremes ? 2_899_999_999_979_776_400n : 79_776_400n,
        scriptPublicKey: { version: 0, script: new Uint8Array(34).fill(2) },
      },
    ],
    lockTime: 0n,
    subnetworkId: new Uint8Array(20),
    gas: 0n,
    payload: new Uint8Array(500).fill(0xab),
    storageMass: 52_535n,
  };
}

function frameOf(extremes: boolean): { frame: unknown; text: string } {
  // A BlockAdded-sized frame: 300 transactions with 500-byte payloads.
  const frame = {
    method: 'blockAddedNotification',
    params: {
      BlockAdded: {
        block: {
          transactions: Array.from({ length: 300 }, (_, i) => transactionToRpc(sampleTx(i, extremes))),
        },
      },
    },
  };
  return { frame, text: stringifyJson(frame) };
}

async function codec(): Promise<BenchTable> {
  const plain = frameOf(false);
  const big = frameOf(true);
  const mb = plain.text.length / 1e6;
  const mbBig = big.text.length / 1e6;
  const parse = await opsPerSecond(() => parseJson(plain.text));
  const parseBig = await opsPerSecond(() => parseJson(big.text));
  const native = await opsPerSecond(() => JSON.parse(plain.text));
  const nativeBig = await opsPerSecond(() => JSON.parse(big.text));
  const stringify = await opsPerSecond(() => stringifyJson(plain.frame));
  const nativeStringify = await opsPerSecond(() => JSON.stringify(plain.frame));
  const one = transactionToRpc(sampleTx(1));
  const conv = await opsPerSecond(() => transactionFromRpc(one));
  const enc = await opsPerSecond(() => transactionToRpc(sampleTx(1)));
  const rate = (ops: number, size: number): string => `${(ops * size).toFixed(0)} MB/s`;
  // What a hostile node may send: one 5 MB run of digits (refused by the digit limit, in one
  // scan; BigInt of it took 2.2 s before) and a 5 MB fraction (a float, as JSON.parse reads it).
  const digits = '1'.repeat(5_000_000);
  const fraction = `0.${digits}`;
  const hostile = (text: string): void => {
    try {
      parseJson(text);
    } catch {
      // The digit run is refused with DecodeError TOO_LARGE: the time to refuse is the figure.
    }
  };
  const perCall = (ops: number): string => fmtMs(1000 / ops);
  const digitsOps = await opsPerSecond(() => hostile(digits));
  const digitsNative = await opsPerSecond(() => JSON.parse(digits));
  const fractionOps = await opsPerSecond(() => hostile(fraction));
  const fractionNative = await opsPerSecond(() => JSON.parse(fraction));
  return {
    title: `wRPC JSON codec (BlockAdded frame of ${(mb * 1000).toFixed(0)} KB, 300 txs with 500-byte payloads)`,
    rows: [
      {
        name: 'parseJson, no u64 above 2^53',
        value: rate(parse, mb),
        reference: `JSON.parse ${rate(native, mb)}`,
      },
      {
        name: 'parseJson, u64::MAX sequences and 2.9e18 values',
        value: rate(parseBig, mbBig),
        reference: `JSON.parse ${rate(nativeBig, mbBig)} (rounds them)`,
      },
      {
        name: 'parseJson, hostile 5 MB digit run (refused: over 40 digits)',
        value: perCall(digitsOps),
        reference: `JSON.parse ${perCall(digitsNative)} (a float)`,
      },
      {
        name: 'parseJson, hostile 5 MB fraction',
        value: perCall(fractionOps),
        reference: `JSON.parse ${perCall(fractionNative)}`,
      },
      {
        name: 'stringifyJson (bigint as bare integers)',
        value: rate(stringify, mb),
        reference: `JSON.stringify ${rate(nativeStringify, mb)} (cannot write bigint)`,
      },
      {
        name: 'transactionFromRpc (1 in, 2 out, 500 B payload)',
        value: fmtRate(conv),
        reference: `transactionToRpc ${fmtRate(enc)}`,
      },
    ],
  };
}

async function roundTrip(): Promise<BenchTable> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (ws) =>
    ws.on('message', (d) => {
      const s = String(d);
      if (s === 'echo') return ws.send(s);
      const id = /"id":(\d+)/.exec(s)?.[1] ?? 'null';
      const method = /"method":"(\w+)"/.exec(s)?.[1] ?? '';
      const params =
        method === 'getBlockDagInfo'
          ? `{"network":"simnet","blockCount":1,"headerCount":1,"tipHashes":[],"difficulty":1,"pastMedianTime":0,"virtualParentHashes":[],"pruningPointHash":"${'00'.repeat(32)}","virtualDaaScore":1,"sink":"${'00'.repeat(32)}"}`
          : '{}';
      ws.send(`{"id":${id},"method":"${method}","params":${params}}`);
    }),
  );
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const client = new KaspaRpcClient({ urls: url, heartbeatMs: 0 });
  await client.connect();
  const raw = new WebSocket(url);
  await new Promise<void>((r) => raw.once('open', () => r()));
  const N = 2000;
  const rpc: number[] = [];
  const echo: number[] = [];
  for (let i = 0; i < N; i++) {
    let t = performance.now();
    await client.ping();
    rpc.push(performance.now() - t);
    t = performance.now();
    await new Promise<void>((r) => {
      raw.once('message', () => r());
      raw.send('echo');
    });
    echo.push(performance.now() - t);
  }
  client.close();
  raw.close();
  await new Promise<void>((r) => wss.close(() => r()));
  return {
    title: 'wRPC call round trip on loopback (ping, sequential)',
    rows: [
      {
        name: `client.ping() p50 / p99 (${N} calls)`,
        value: `${fmtMs(percentile(rpc, 50))} / ${fmtMs(percentile(rpc, 99))}`,
        reference: `bare ws echo ${fmtMs(percentile(echo, 50))} / ${fmtMs(percentile(echo, 99))}`,
        note: 'floor: same socket library, no envelope',
      },
    ],
  };
}

const bench: Bench = async () => [await codec(), await roundTrip()];
export default bench;

/**
 * The transaction shapes the messenger uses, built with the real builder from deterministic
 * coins, and the Markdown table of their masses that docs/kaspa-mass.md carries.
 */
import { Address, AddressVersion } from '../../src/kaspa/address.ts';
import {
  buildConsolidation,
  buildMirrorReturn,
  buildSweep,
  buildTransaction,
  notificationAmount,
  type BuiltTransaction,
} from '../../src/kaspa/builder.ts';
import { KaspaHdWallet } from '../../src/kaspa/hd.ts';
import { payToPubKey } from '../../src/kaspa/script.ts';
import type { TxId, Utxo } from '../../src/kaspa/types.ts';

/** A deterministic wallet (seed 0x01 × 64) and the coins it owns. */
export const wallet = KaspaHdWallet.fromSeed(new Uint8Array(64).fill(1));
export const me = wallet.address('kaspa', 0, 0, 0);
export const myChange = wallet.address('kaspa', 0, 1, 0);
/** Recipients: distinct fresh addresses. */
export const peers = Array.from({ length: 16 }, (_, i) => wallet.address('kaspa', 1, 0, i));

/** A coin of `amount` sompi owned by `owner` (account 0, receive 0 unless said otherwise). */
export function coin(amount: bigint, n: number, ownerXOnly = me.payload): Utxo {
  const txid = new Uint8Array(32).fill(0);
  txid[0] = n & 0xff;
  txid[1] = (n >> 8) & 0xff;
  txid[31] = 0x77;
  return {
    outpoint: { transactionId: txid as TxId, index: n % 4 },
    entry: { amount, scriptPublicKey: payToPubKey(ownerXOnly), blockDaaScore: 1n, isCoinbase: false },
  };
}

export const KAS = 100_000_000n;
/** Notification value used in the table: the default of `notificationAmount(1)`. */
export const NOTIFICATION = notificationAmount(1);

export interface Shape {
  readonly name: string;
  readonly built: BuiltTransaction;
}

/** Every shape of docs/kaspa-mass.md, for tx version `version`. */
export function messengerShapes(version: 0 | 1, feerate?: number): Shape[] {
  const o = feerate === undefined ? { version } : { version, feerate };
  const payload1k = Uint8Array.from({ length: 1024 }, (_, i) => i & 0xff);
  const wallet10 = [coin(10n * KAS, 1)];
  const shapes: Shape[] = [];
  shapes.push({
    name: `message: 1 KB payload + 1 notification (${fmtKas(NOTIFICATION)})`,
    built: buildTransaction({
      ...o,
      utxos: wallet10,
      outputs: [{ to: peers[0]!, amount: NOTIFICATION }],
      changeAddress: myChange,
      payload: payload1k,
    }),
  });
  shapes.push({
    name: 'message: 1 KB payload to self only (no notification)',
    built: buildTransaction({
      ...o,
      utxos: wallet10,
      outputs: [],
      changeAddress: myChange,
      payload: payload1k,
    }),
  });
  for (const k of [4, 8]) {
    const v = notificationAmount(k);
    shapes.push({
      name: `batch: 1 KB payload + ${k} notifications (${fmtKas(v)} each)`,
      built: buildTransaction({
        ...o,
        utxos: wallet10,
        outputs: peers.slice(0, k).map((p) => ({ to: p, amount: v })),
        changeAddress: myChange,
        payload: payload1k,
      }),
    });
  }
  const received = coin(NOTIFICATION, 100, peers[1]!.payload);
  const sender = wallet.address('kaspa', 2, 0, 0);
  shapes.push({
    name: `return: 1 notification coin + 1 own coin, 2-in/2-out mirror`,
    built: buildMirrorReturn([{ utxo: received, to: sender }], wallet10, myChange, o),
  });
  shapes.push({
    name: 'return: 2 notification coins to 2 senders, fee from the returns',
    built: buildMirrorReturn(
      [
        { utxo: coin(NOTIFICATION, 101, peers[1]!.payload), to: sender },
        { utxo: coin(NOTIFICATION, 102, peers[1]!.payload), to: wallet.address('kaspa', 2, 0, 1) },
      ],
      [],
      myChange,
      o,
    ),
  });
  const small = Array.from({ length: 200 }, (_, i) => coin(NOTIFICATION, 200 + i));
  const consolidation = buildConsolidation(small, me, o);
  shapes.push({
    name: `consolidation: ${consolidation[0]!.utxos.length} small coins → 1 (tx 1 of ${consolidation.length} for 200 coins)`,
    built: consolidation[0]!,
  });
  shapes.push({
    name: 'sweep: 5 coins → 1 output',
    built: buildSweep(
      Array.from({ length: 5 }, (_, i) => coin(BigInt(i + 1) * KAS, 500 + i)),
      new Address('kaspa', AddressVersion.PubKey, peers[3]!.payload),
      o,
    ),
  });
  return shapes;
}

/** Sompi as KAS text, e.g. "0.2 KAS". */
export function fmtKas(sompi: bigint): string {
  const whole = sompi / KAS;
  const frac = (sompi % KAS).toString().padStart(8, '0').replace(/0+$/, '');
  return `${whole}${frac ? `.${frac}` : ''} KAS`;
}

/** The Markdown table of docs/kaspa-mass.md. */
export function massTable(): string {
  const rows = [
    '| tx | shape | in/out | bytes | compute | transient (norm.) | storage | normalized | fee at relay floor | fee at 100 sompi/g × normalized |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const version of [0, 1] as const) {
    const atRate = messengerShapes(version, 100);
    messengerShapes(version).forEach((s, i) => {
      const b = s.built;
      const m = b.mass;
      rows.push(
        `| v${version} | ${s.name} | ${b.tx.inputs.length}/${b.tx.outputs.length} | ${m.size} | ${m.compute} | ${m.transient} (${(m.transient + 1n) / 2n}) | ${m.storage} | ${m.normalized} | ${b.fee} | ${atRate[i]!.built.fee} |`,
      );
    });
  }
  return rows.join('\n');
}

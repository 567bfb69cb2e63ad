/**
 * What a node does with `unsubscribe` of UtxosChanged, asked over the wire (FACTS §6.4): one
 * connection subscribes addresses A and B, then removes A, removes an address it never named
 * (C), removes with an empty list, subscribes B again, and subscribes A twice and removes it
 * once; after each step one transaction pays A and B together and the step records which of
 * the two the node notified. The same script runs against kaspad (the node checks of
 * `npm run test:kaspad`) and the local network (test/devnet/subscriptions.test.ts), and both
 * must give `KASPAD_UNSUBSCRIBE`.
 *
 * The frames are written by hand, not by KaspaRpcClient: the client counts its own
 * subscriptions and never sends an empty list, and the question is what the node does.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { WebSocket, type RawData } from 'ws';
import { Address, AddressVersion } from '../../src/kaspa/address.ts';
import { parseJson, stringifyJson } from '../../src/kaspa/rpc/json.ts';
import { randomBytes } from '../../src/util/bytes.ts';

type Label = 'A' | 'B' | 'C';

/** One step: the frames sent, then which of A and B the payment after them was notified for. */
export interface UnsubscribeStep {
  readonly sent: readonly string[];
  readonly notified: readonly Label[];
}

/**
 * kaspad 2.1.0 (simnet, `--utxoindex`), observed with this script: an unsubscribe naming
 * addresses removes those and keeps the rest (rusty-kaspa notify/src/subscription: Selected(S)
 * minus R is Selected(S - R)); naming one never subscribed changes nothing; an empty list ends
 * the connection's UtxosChanged subscription; the node keeps a set of addresses per
 * connection, not counts, so one unsubscribe undoes two subscribes of the same address.
 */
export const KASPAD_UNSUBSCRIBE: readonly UnsubscribeStep[] = [
  { sent: ['subscribe [A,B]'], notified: ['A', 'B'] },
  { sent: ['unsubscribe [A]'], notified: ['B'] },
  { sent: ['unsubscribe [C]'], notified: ['B'] },
  { sent: ['unsubscribe []'], notified: [] },
  { sent: ['subscribe [B]'], notified: ['B'] },
  { sent: ['subscribe [A]', 'subscribe [A]', 'unsubscribe [A]'], notified: ['B'] },
];

/** Pays 1 KAS or so to each of `to` in one transaction; resolves with its id (hex). */
export type PayBoth = (to: readonly string[]) => Promise<string>;

interface Entry {
  readonly address: string;
  readonly outpoint: { readonly transactionId: string };
}

/**
 * Runs the steps against the node at `url`; `pay` must put both outputs in one transaction, so
 * that both are in one notification. `log` sees every frame sent and every notification, with
 * A, B and C in place of the addresses. A step whose notification for B has not come within
 * `timeoutMs` of its payment records what came by then, once the payment is accepted.
 */
export async function runUnsubscribeSteps(
  url: string,
  pay: PayBoth,
  log: (line: string) => void = () => {},
  timeoutMs = 60_000,
): Promise<UnsubscribeStep[]> {
  const fresh = (): string =>
    new Address('kaspasim', AddressVersion.PubKey, schnorr.getPublicKey(randomBytes(32))).toString();
  const names = new Map<string, Label>([
    [fresh(), 'A'],
    [fresh(), 'B'],
    [fresh(), 'C'],
  ]);
  const [A, B, C] = [...names.keys()] as [string, string, string];
  const label = (a: string): string => names.get(a) ?? a;
  const named = (text: string): string => text.replace(A, 'A').replace(B, 'B').replace(C, 'C');

  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let nextId = 0;
  const replies = new Map<number, (params: unknown) => void>();
  /** Addresses notified per transaction id. */
  const seen = new Map<string, Set<Label>>();
  const waiters = new Set<() => void>();
  ws.on('message', (data: RawData) => {
    const m = parseJson(Buffer.isBuffer(data) ? data.toString('utf8') : '') as {
      id?: number;
      error?: unknown;
      params?: { UtxosChanged?: { added: Entry[]; removed: Entry[] } };
    };
    if (m.id !== undefined) {
      if ((m as { method?: string }).method !== 'getUtxosByAddresses') log(`<- ${named(stringifyJson(m))}`);
      replies.get(m.id)?.(m);
      return;
    }
    const u = m.params?.UtxosChanged;
    if (u === undefined) return;
    log(
      `<- utxosChangedNotification added [${u.added.map((e) => label(e.address)).join(',')}]` +
        ` removed [${u.removed.map((e) => label(e.address)).join(',')}]`,
    );
    for (const e of u.added) {
      const l = names.get(e.address);
      if (l === undefined) continue;
      let s = seen.get(e.outpoint.transactionId);
      if (!s) seen.set(e.outpoint.transactionId, (s = new Set()));
      s.add(l);
    }
    for (const w of waiters) w();
  });
  const request = (method: string, params: unknown): Promise<unknown> => {
    const id = ++nextId;
    return new Promise((resolve) => {
      replies.set(id, resolve);
      ws.send(stringifyJson({ id, method, params }));
    });
  };
  /** Resolves once the node's UTXO index holds B's coin of `tx`, i.e. once `tx` is accepted. */
  const accepted = async (tx: string): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reply = (await request('getUtxosByAddresses', { addresses: [B] })) as {
        params?: { entries?: Entry[] };
      };
      if ((reply.params?.entries ?? []).some((e) => e.outpoint.transactionId === tx)) return;
      if (Date.now() > deadline) throw new Error(`${tx} not accepted within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const send = (text: string): Promise<void> => {
    const [method, list] = text.split(' ') as ['subscribe' | 'unsubscribe', string];
    const addresses = list
      .slice(1, -1)
      .split(',')
      .filter((l) => l !== '')
      .map((l) => [...names].find(([, n]) => n === l)![0]);
    const id = ++nextId;
    const frame = stringifyJson({ id, method, params: { UtxosChanged: { addresses } } });
    log(`-> ${named(frame)}`);
    return new Promise<void>((resolve, reject) => {
      replies.set(id, (reply) => {
        if ((reply as { error?: unknown }).error !== undefined) reject(new Error(`${text}: refused`));
        else resolve();
      });
      ws.send(frame);
    });
  };
  /** Resolves true once `done()`, false after `timeoutMs` (the step then records what came). */
  const until = (done: () => boolean): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      const check = (): void => {
        if (!done()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(true);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        resolve(false);
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  try {
    const steps: { sent: readonly string[]; tx: string }[] = [];
    for (const { sent } of KASPAD_UNSUBSCRIBE) {
      for (const f of sent) await send(f);
      const tx = await pay([A, B]);
      log(`paid A and B in ${tx}`);
      steps.push({ sent, tx });
      // B is subscribed at every step but the empty-list one; a notification carries every
      // entry of one transaction, so once B's is in, A's would have been in the same frame.
      // The step without B waits until its payment is accepted, so that the next step's
      // subscription cannot be what tells of it.
      if (sent.includes('unsubscribe []')) await accepted(tx);
      else if (!(await until(() => seen.get(tx)?.has('B') === true))) await accepted(tx);
    }
    return steps.map(({ sent, tx }) => ({ sent, notified: [...(seen.get(tx) ?? [])].sort() }));
  } finally {
    ws.close();
  }
}

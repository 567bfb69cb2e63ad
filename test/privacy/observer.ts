/**
 * An outside observer of the whole chain: it reads every accepted transaction through the
 * node's public RPC (no key, no payload decryption) and tries to rebuild who talks to whom
 * with the standard chain-analysis heuristics:
 *
 * - address reuse and common-input ownership (every input of one transaction has one owner),
 * - change detection (an output back to an input's address, or the one fresh output of a
 *   payment, is the sender's),
 * - value transfer and coin tracing (a payload-carrying transaction paying another owner),
 * - timing correlation (owner B publishes shortly after a transaction paid B),
 * - payload sizes (a receipt-sized payload right after a message to its sender),
 * - the funding graph (`peel: true`): the largest output of a transaction, when at least twice
 *   the next, is the spender's change, so a funding coin is followed through every spend it
 *   pays (the "peel chain" of chain analysis); `mergedConversations` counts how many of each
 *   client's conversations that joins under one sender.
 *
 * Each heuristic's claims are scored against the truth (which addresses belong to which
 * client, and which pairs of clients really converse) as precision and recall, beside the
 * random baseline: an observer that names the same number of pairs of the entities it can
 * see, chosen uniformly at random.
 */
import type { KaspaRpcClient } from '../../src/kaspa/rpc/client.ts';
import type { BlockHash, Transaction } from '../../src/kaspa/types.ts';
import { transactionId } from '../../src/kaspa/txid.ts';
import { bytesToHex } from '../../src/util/bytes.ts';

/** One accepted transaction as the observer keeps it. */
export interface SeenTx {
  readonly id: string;
  /** Timestamp (ms) of the chain block that accepted it. */
  readonly time: number;
  /** Script (hex) of each spent coin, when the coin's creating transaction was seen. */
  readonly inputScripts: readonly (string | undefined)[];
  readonly inputOutpoints: readonly string[];
  readonly outputs: readonly { readonly script: string; readonly value: bigint }[];
  readonly payloadBytes: number;
}

/** Reads every transaction the node accepted, in acceptance order, from its pruning point. */
export async function readChain(client: KaspaRpcClient): Promise<SeenTx[]> {
  const dag = await client.getBlockDagInfo();
  const coins = new Map<string, string>();
  const seen: SeenTx[] = [];
  let cursor: BlockHash = dag.pruningPointHash;
  for (;;) {
    const page = await client.getVirtualChainFromBlockV2(cursor, { dataVerbosityLevel: 'Full' });
    for (const block of page.chainBlockAcceptedTransactions) {
      for (const accepted of block.acceptedTransactions) {
        const tx = accepted.transaction;
        if (tx === undefined) continue;
        seen.push(record(tx, Number(block.chainBlockHeader.timestamp), coins));
      }
    }
    const last = page.addedChainBlockHashes.at(-1);
    if (last === undefined) return seen;
    cursor = last;
  }
}

function record(tx: Transaction, time: number, coins: Map<string, string>): SeenTx {
  const id = bytesToHex(transactionId(tx));
  const inputOutpoints = tx.inputs.map(
    (i) => `${bytesToHex(i.previousOutpoint.transactionId)}:${i.previousOutpoint.index}`,
  );
  const outputs = tx.outputs.map((o) => ({ script: bytesToHex(o.scriptPublicKey.script), value: o.value }));
  outputs.forEach((o, index) => coins.set(`${id}:${index}`, o.script));
  return {
    id,
    time,
    inputScripts: inputOutpoints.map((o) => coins.get(o)),
    inputOutpoints,
    outputs,
    payloadBytes: tx.payload.length,
  };
}

/** Union-find over address scripts (and outpoints of coins the observer never saw created). */
class Entities {
  readonly #parent = new Map<string, string>();

  find(x: string): string {
    let root = x;
    for (let p = this.#parent.get(root); p !== undefined && p !== root; p = this.#parent.get(root)) root = p;
    if (!this.#parent.has(x)) this.#parent.set(x, x);
    for (let cur = x; cur !== root;) {
      const next = this.#parent.get(cur)!;
      this.#parent.set(cur, root);
      cur = next;
    }
    return root;
  }

  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.#parent.set(ra, rb);
  }

  members(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const x of this.#parent.keys()) {
      const r = this.find(x);
      const list = out.get(r) ?? [];
      list.push(x);
      out.set(r, list);
    }
    return out;
  }
}

/** A pair of entity roots, in a canonical order. */
function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** The heuristics the observer applies; each yields a set of claimed conversation pairs. */
export const HEURISTICS = ['value transfer', 'coin tracing', 'timing', 'payload sizes'] as const;
export type Heuristic = (typeof HEURISTICS)[number];

export interface Analysis {
  /** Entity root of every script and unknown outpoint the observer clustered. */
  readonly entityOf: (key: string) => string;
  /** Entities that took part in payload-carrying transactions (the population claims are drawn from). */
  readonly population: readonly string[];
  readonly claims: ReadonlyMap<Heuristic | 'union', ReadonlySet<string>>;
  readonly members: ReadonlyMap<string, readonly string[]>;
}

export interface AnalysisOptions {
  /** How soon after being paid a publication by the payee counts as a response. @default 3,000 ms */
  readonly responseWindowMs?: number;
  /** Groups of scripts known by other means to have one owner (the node operator's view). */
  readonly sameOwner?: readonly (readonly string[])[];
  /** Follow funding coins: the largest output, at least twice the next, is the spender's. */
  readonly peel?: boolean;
}

/** Applies every heuristic to the transactions the observer read. */
export function analyse(txs: readonly SeenTx[], options: AnalysisOptions = {}): Analysis {
  const window = options.responseWindowMs ?? 3_000;
  const entities = new Entities();
  const inputKey = (tx: SeenTx, i: number): string => tx.inputScripts[i] ?? `coin:${tx.inputOutpoints[i]}`;
  const scriptSeen = new Set<string>();
  for (const group of options.sameOwner ?? []) for (const s of group.slice(1)) entities.union(group[0]!, s);

  // Address reuse is implicit (one node per script); common-input ownership and change:
  for (const tx of txs) {
    if (tx.inputOutpoints.length === 0) {
      for (const o of tx.outputs) scriptSeen.add(o.script);
      continue;
    }
    for (let i = 1; i < tx.inputOutpoints.length; i++) entities.union(inputKey(tx, 0), inputKey(tx, i));
    const inputs = new Set(tx.inputScripts.filter((s): s is string => s !== undefined));
    const fresh = tx.outputs.filter((o) => !scriptSeen.has(o.script) && !inputs.has(o.script));
    // Change back to an input's address is merged already (same script); failing that, one
    // fresh output beside outputs to known addresses is taken for a one-time change address.
    const reuse = tx.outputs.some((o) => inputs.has(o.script));
    if (!reuse && fresh.length === 1 && tx.outputs.length > 1)
      entities.union(inputKey(tx, 0), fresh[0]!.script);
    if (options.peel && tx.outputs.length > 1) {
      const byValue = tx.outputs.slice().sort((a, b) => (a.value > b.value ? -1 : a.value < b.value ? 1 : 0));
      if (byValue[0]!.value >= 2n * byValue[1]!.value) entities.union(inputKey(tx, 0), byValue[0]!.script);
    }
    for (const o of tx.outputs) {
      entities.find(o.script);
      scriptSeen.add(o.script);
    }
  }

  const sender = (tx: SeenTx): string | undefined =>
    tx.inputOutpoints.length === 0 ? undefined : entities.find(inputKey(tx, 0));
  const payees = (tx: SeenTx): string[] => {
    const s = sender(tx);
    return [...new Set(tx.outputs.map((o) => entities.find(o.script)))].filter((e) => e !== s);
  };

  const messaging = txs.filter((t) => t.payloadBytes > 0 && t.inputOutpoints.length > 0);
  const population = new Set<string>();
  for (const tx of messaging) {
    population.add(sender(tx)!);
    for (const p of payees(tx)) population.add(p);
  }

  const claims = new Map<Heuristic | 'union', Set<string>>(HEURISTICS.map((h) => [h, new Set<string>()]));
  const claim = (h: Heuristic, a: string, b: string): void => {
    if (a !== b) claims.get(h)!.add(pairKey(a, b));
  };

  // Value transfer: a payload-carrying transaction pays another entity.
  for (const tx of messaging) for (const p of payees(tx)) claim('value transfer', sender(tx)!, p);

  // Coin tracing: a coin created by X's publication and later spent by Y links X and Y.
  const createdBy = new Map<string, string>();
  for (const tx of messaging) tx.outputs.forEach((_, i) => createdBy.set(`${tx.id}:${i}`, sender(tx)!));
  for (const tx of messaging) {
    for (const o of tx.inputOutpoints) {
      const origin = createdBy.get(o);
      if (origin !== undefined) claim('coin tracing', origin, sender(tx)!);
    }
  }

  // Timing: the next publication of an entity within the window after one that paid it.
  // Payload sizes: the same, restricted to the smallest payloads (receipt-sized) seen.
  const smallest = Math.min(...messaging.map((t) => t.payloadBytes));
  for (let i = 0; i < messaging.length; i++) {
    const paid = messaging[i]!;
    const from = sender(paid)!;
    for (const payee of payees(paid)) {
      const reply = messaging
        .slice(i + 1)
        .find((t) => t.time - paid.time <= window && sender(t) === payee && t.time >= paid.time);
      if (reply === undefined) continue;
      claim('timing', from, payee);
      if (reply.payloadBytes === smallest) claim('payload sizes', from, payee);
    }
  }

  const union = new Set<string>();
  for (const h of HEURISTICS) for (const c of claims.get(h)!) union.add(c);
  claims.set('union', union);
  return {
    entityOf: (k) => entities.find(k),
    population: [...population],
    claims,
    members: entities.members(),
  };
}

/** One client's conversations and how many of them the observer puts under one sender. */
export interface Merged {
  readonly client: string;
  /** Contacts the client wrote to on chain. */
  readonly conversations: number;
  /** The most of them whose publications the observer attributes to one sender entity. */
  readonly merged: number;
}

/**
 * How many of each client's conversations the observer joins: the client's publications
 * (its coin pays them, by the truth) grouped by the sender entity the observer assigned,
 * each group counting the distinct contacts it paid; the client's figure is its largest group.
 * With `oneRecipient`, publications paying several contacts are left out.
 */
export function mergedConversations(
  analysis: Analysis,
  txs: readonly SeenTx[],
  truth: Truth,
  options: { readonly oneRecipient?: boolean } = {},
): Merged[] {
  const groups = new Map<string, Map<string, Set<string>>>();
  const all = new Map<string, Set<string>>();
  for (const tx of txs) {
    if (tx.payloadBytes === 0 || tx.inputOutpoints.length === 0) continue;
    const script = tx.inputScripts[0];
    const client = script === undefined ? undefined : truth.ownerOf.get(script);
    if (client === undefined) continue;
    const entity = analysis.entityOf(script!);
    const contacts = new Set(
      tx.outputs
        .map((o) => truth.ownerOf.get(o.script))
        .filter((o): o is string => o !== undefined && o !== client),
    );
    // A publication to several contacts joins them by itself; `oneRecipient` counts only
    // what the funding graph adds.
    if (contacts.size === 0 || (options.oneRecipient && contacts.size > 1)) continue;
    const byEntity = groups.get(client) ?? new Map<string, Set<string>>();
    const set = byEntity.get(entity) ?? new Set<string>();
    for (const c of contacts) set.add(c);
    byEntity.set(entity, set);
    groups.set(client, byEntity);
    const mine = all.get(client) ?? new Set<string>();
    for (const c of contacts) mine.add(c);
    all.set(client, mine);
  }
  return [...all.keys()].sort().map((client) => ({
    client,
    conversations: all.get(client)!.size,
    merged: Math.max(...[...groups.get(client)!.values()].map((s) => s.size)),
  }));
}

/** A small deterministic generator in [0, 1) (xorshift32), so runs are reproducible from a seed. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** Who really owns which script, and which pairs of clients really converse. */
export interface Truth {
  readonly ownerOf: ReadonlyMap<string, string>;
  /** Unordered pairs of client names, as `a|b` with a < b. */
  readonly conversations: ReadonlySet<string>;
}

export interface Score {
  readonly claims: number;
  readonly correct: number;
  readonly precision: number;
  readonly recall: number;
  /** The same number of claims drawn uniformly from the pairs of the population. */
  readonly baselinePrecision: number;
  readonly baselineRecall: number;
}

/** Projects the observer's entities onto their true owners and scores one set of claims. */
export function score(
  analysis: Analysis,
  claimSet: ReadonlySet<string>,
  truth: Truth,
  trials = 2_000,
): Score {
  const owner = new Map<string, string>();
  for (const [root, members] of analysis.members) {
    const votes = new Map<string, number>();
    for (const m of members) {
      const o = truth.ownerOf.get(m);
      if (o !== undefined) votes.set(o, (votes.get(o) ?? 0) + 1);
    }
    const best = [...votes].sort((a, b) => b[1] - a[1])[0];
    if (best !== undefined) owner.set(root, best[0]);
  }
  const truePair = (key: string): string | undefined => {
    const [a, b] = key.split('|') as [string, string];
    const oa = owner.get(a);
    const ob = owner.get(b);
    if (oa === undefined || ob === undefined || oa === ob) return undefined;
    const p = pairKey(oa, ob);
    return truth.conversations.has(p) ? p : undefined;
  };
  const rate = (keys: Iterable<string>): { correct: number; covered: number; n: number } => {
    let correct = 0;
    let n = 0;
    const covered = new Set<string>();
    for (const k of keys) {
      n++;
      const p = truePair(k);
      if (p !== undefined) {
        correct++;
        covered.add(p);
      }
    }
    return { correct, covered: covered.size, n };
  };
  const mine = rate(claimSet);
  const edges = Math.max(truth.conversations.size, 1);

  // Random baseline: draw the same number of distinct pairs of the population, many times.
  const pop = [...analysis.population].sort();
  const allPairs: string[] = [];
  for (let i = 0; i < pop.length; i++)
    for (let j = i + 1; j < pop.length; j++) allPairs.push(pairKey(pop[i]!, pop[j]!));
  const k = Math.min(mine.n, allPairs.length);
  let precisionSum = 0;
  let recallSum = 0;
  const next = seededRandom(0x9e3779b9);
  for (let t = 0; t < trials && k > 0; t++) {
    const pick = allPairs.slice();
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(next() * (pick.length - i));
      [pick[i], pick[j]] = [pick[j]!, pick[i]!];
    }
    const r = rate(pick.slice(0, k));
    precisionSum += r.correct / k;
    recallSum += r.covered / edges;
  }
  const runs = k > 0 ? trials : 1;
  return {
    claims: mine.n,
    correct: mine.correct,
    precision: mine.n === 0 ? 0 : mine.correct / mine.n,
    recall: mine.covered / edges,
    baselinePrecision: precisionSum / runs,
    baselineRecall: recallSum / runs,
  };
}

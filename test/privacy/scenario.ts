/**
 * The observer's scenario on the local network: five clients funded by ordinary faucet
 * payments, six conversations, sixty messages with first contacts over the chain, coins
 * bouncing and topped up, and a client that catches up after being offline. Every client
 * reaches the node through a recording proxy of its own (one network address each), so the
 * node operator's view can be scored beside the chain observer's.
 */
import { startDevnet, type DevnetHandle } from '../../src/devnet/index.ts';
import { Address, addressToScriptPublicKey } from '../../src/kaspa/address.ts';
import { KaspaRpcClient } from '../../src/kaspa/rpc/client.ts';
import { SOMPI_PER_KAS } from '../../src/kaspa/types.ts';
import { bytesToHex } from '../../src/util/bytes.ts';
import { ChainUser } from '../core/delivery/kaspa.ts';
import { defaultReceiptDelayMs } from '../../src/core/delivery/kaspa-chain.ts';
import { until } from '../core/delivery/harness.ts';
import { readChain, seededRandom, type SeenTx, type Truth } from './observer.ts';
import { RecordingProxy, type ConnectionView } from './node-view.ts';

/** The six conversations among five clients (four pairs never talk). */
export const CONVERSATIONS: readonly (readonly [string, string])[] = [
  ['alice', 'bob'],
  ['alice', 'carol'],
  ['bob', 'carol'],
  ['carol', 'dave'],
  ['dave', 'erin'],
  ['alice', 'erin'],
];

export interface ScenarioResult {
  readonly txs: readonly SeenTx[];
  readonly truth: Truth;
  /** Per client (its network address): what the node saw of all its connections. */
  readonly nodeView: ReadonlyMap<string, readonly ConnectionView[]>;
  readonly messages: number;
  /** Script (hex) of each address named in `nodeView`. */
  readonly scriptOf: (address: string) => string;
}

/** HD addresses a client's wallet can own (both chains, the first `n` indices). */
const OWNED_INDICES = 200;

export async function runScenario(
  options: { messages?: number; seed?: number } = {},
): Promise<ScenarioResult> {
  const total = options.messages ?? 60;
  const random = seededRandom(options.seed ?? 2026);
  let devnet: DevnetHandle | undefined;
  const proxies = new Map<string, RecordingProxy>();
  const users = new Map<string, ChainUser>();
  for (const name of ['alice', 'bob', 'carol', 'dave', 'erin'])
    users.set(
      name,
      new ChainUser(name, () => proxies.get(name)!.url, {
        // Receipts wait as in the app (docs/privacy.md "Timing"); coins and order are seeded.
        receiptDelayMs: () => defaultReceiptDelayMs(random),
        random: seededRandom((options.seed ?? 2026) + name.length * 7919 + name.charCodeAt(0)),
      }),
    );
  const u = (name: string): ChainUser => users.get(name)!;
  // Cards exchanged by invite, except two first contacts made over the chain: Carol does not
  // hold Alice's card and Erin does not hold Dave's, so those conversations start unannounced.
  u('alice').knows(u('bob'), u('carol'), u('erin'));
  u('bob').knows(u('alice'), u('carol'));
  u('carol').knows(u('bob'), u('dave'));
  u('dave').knows(u('carol'), u('erin'));
  u('erin').knows(u('alice'));
  const firstSender = new Map([
    ['alice|carol', 'alice'],
    ['dave|erin', 'dave'],
  ]);

  let observer: KaspaRpcClient | undefined;
  try {
    devnet = await startDevnet({ port: 0, controlPort: false, blocksPerSecond: 20 });
    observer = new KaspaRpcClient({ urls: devnet.url });
    for (const name of users.keys()) proxies.set(name, await RecordingProxy.start(devnet.url));
    // Funding arrives as ordinary payments from one source (an exchange or a faucet).
    for (const user of users.values()) devnet.fund(user.address.toString(), 50n * SOMPI_PER_KAS);
    for (const user of users.values()) await user.start();

    // The message plan: each conversation gets its share, directions mixed, first contacts
    // opened by the side holding the card, and the rest interleaved at random.
    const plan: [string, string][] = [];
    const perConversation = Math.floor(total / CONVERSATIONS.length);
    for (const [a, b] of CONVERSATIONS) {
      const opener = firstSender.get(`${a}|${b}`);
      for (let i = 0; i < perConversation; i++) {
        if (i === 0 && opener !== undefined) plan.push(opener === a ? [a, b] : [b, a]);
        else plan.push(random() < 0.5 ? [a, b] : [b, a]);
      }
    }
    const order = plan.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    // A first contact goes before any other message of its conversation.
    const opened = new Set<string>();
    const sent = new Map<string, number>();
    const ordered = order.map((i) => plan[i]!);
    const pending = [...ordered];
    const key = (a: string, b: string): string => (a < b ? `${a}|${b}` : `${b}|${a}`);
    let n = 0;
    const away = (i: number): boolean => i >= Math.floor(total / 2) && i < Math.floor(total / 2) + 8;
    while (pending.length > 0) {
      const ready = ([from, to]: [string, string]): boolean => {
        const opener = firstSender.get(key(from, to));
        return opener === undefined || opened.has(key(from, to)) || opener === from;
      };
      // While Carol is away she sends nothing; what others send her waits for her return.
      let idx = pending.findIndex((m) => ready(m) && !(away(n) && m[0] === 'carol'));
      if (idx < 0) idx = pending.findIndex(ready);
      const [from, to] = pending.splice(idx, 1)[0]!;
      const k = key(from, to);
      if (n === Math.floor(total / 2)) await u('carol').stop();
      if (n === Math.floor(total / 2) + 8 || (away(n) && from === 'carol')) {
        if (away(n)) n = Math.floor(total / 2) + 8;
        await u('carol').start();
      }
      await u(from).engine.send(u(to).id, `message ${n} from ${from} to ${to}`);
      sent.set(`${from}>${to}`, (sent.get(`${from}>${to}`) ?? 0) + 1);
      if (firstSender.has(k) && !opened.has(k)) {
        // The first contact arrives as a message request; the recipient accepts it (the
        // cost of that is part of what the observer sees), and replies wait for it.
        await until(
          `${to} has a request from ${from}`,
          () => u(to).requests.get(u(from).id) !== undefined,
          120_000,
        );
        await u(to).accept(u(from));
        await u(to).waitInbox(u(from), 1, 120_000);
        opened.add(k);
      }
      n++;
      await new Promise((r) => setTimeout(r, 30 + random() * 250));
    }
    for (const [pair, count] of sent) {
      const [from, to] = pair.split('>') as [string, string];
      await u(from).allOut(u(to), ['delivered', 'read'], count, 180_000);
    }
    await until('the last returns accepted', async () => {
      await new Promise((r) => setTimeout(r, 1_000));
      return true;
    });

    await observer.connect();
    const txs = await readChain(observer);

    const ownerOf = new Map<string, string>();
    for (const [name, user] of users) {
      ownerOf.set(bytesToHex(addressToScriptPublicKey(user.address).script), name);
      for (const change of [0, 1] as const)
        for (let i = 0; i < OWNED_INDICES; i++)
          ownerOf.set(
            bytesToHex(addressToScriptPublicKey(user.wallet.address('kaspasim', 0, change, i)).script),
            name,
          );
      // Chain format 2: every notification address the client watched in any of its runs.
      for (const a of user.ownedAddresses())
        ownerOf.set(bytesToHex(addressToScriptPublicKey(Address.decode(a)).script), name);
    }
    const nodeView = new Map([...proxies].map(([name, p]) => [name, p.connections] as const));
    return {
      txs,
      truth: { ownerOf, conversations: new Set(CONVERSATIONS.map(([a, b]) => key(a, b))) },
      nodeView,
      messages: n,
      scriptOf: (address) => bytesToHex(addressToScriptPublicKey(Address.decode(address)).script),
    };
  } finally {
    observer?.close();
    for (const user of users.values()) await user.stop().catch(() => undefined);
    for (const p of proxies.values()) await p.stop();
    await devnet?.stop();
  }
}

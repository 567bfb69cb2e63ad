/**
 * The observer's scenario on the local network: five clients funded by ordinary faucet
 * payments, six conversations, sixty messages with first contacts over the chain, coins
 * bouncing and topped up, and a client that catches up after being offline. The local
 * network serves three RPC ports (three "nodes"); every client reaches them through a NodePool
 * (src/kaspa/rpc/pool.ts), with a recording proxy of its own in front of each node (one
 * network address per client and node), so each node operator's view can be scored beside
 * the chain observer's.
 *
 * Time runs at `timeScale` of the app's: the receipt delay, uniform in [5 s, 60 s] in the app
 * (docs/privacy.md "Timing"), is [0.5 s, 6 s] at the default 0.1, and the observer's response
 * window is scaled alike (3 s to 0.3 s), so the timing heuristics stand where they stand
 * against the app. At scale 1 the run waits out the last minute-long receipt delays of every
 * conversation, which is most of its wall time (2 min for 33 s of work, and over 3 min on a
 * loaded machine).
 */
import { startDevnet, type DevnetHandle } from '../../src/devnet/index.ts';
import { Address, addressToScriptPublicKey } from '../../src/kaspa/address.ts';
import { KaspaRpcClient } from '../../src/kaspa/rpc/client.ts';
import { NodePool } from '../../src/kaspa/rpc/pool.ts';
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
  /** Per node, per client (its network address): what that node saw of all its connections. */
  readonly nodeView: readonly ReadonlyMap<string, readonly ConnectionView[]>[];
  /** The time scale the run used (the observer's response window scales with it). */
  readonly timeScale: number;
  readonly messages: number;
  /** Script (hex) of each address named in `nodeView`. */
  readonly scriptOf: (address: string) => string;
}

/** HD addresses a client's wallet can own (both chains, the first `n` indices). */
const OWNED_INDICES = 200;

/** RPC ports the local network serves in the scenario (each stands for one node operator). */
export const NODES = 3;

export async function runScenario(
  options: {
    messages?: number;
    seed?: number;
    timeScale?: number;
    /** Invites with a first-contact address of their own (Invite version 5). @default true */
    inviteAddresses?: boolean;
  } = {},
): Promise<ScenarioResult> {
  const total = options.messages ?? 60;
  const timeScale = options.timeScale ?? 0.1;
  const random = seededRandom(options.seed ?? 2026);
  let devnet: DevnetHandle | undefined;
  /** Per client, one proxy in front of each node. */
  const proxies = new Map<string, RecordingProxy[]>();
  const users = new Map<string, ChainUser>();
  for (const name of ['alice', 'bob', 'carol', 'dave', 'erin']) {
    // A fixed assignment key per client, as the app derives one per profile: a restart
    // asks each node about the same share.
    const assignmentKey = new Uint8Array(32).fill(name.charCodeAt(0));
    users.set(
      name,
      new ChainUser(name, () => proxies.get(name)![0]!.url, {
        // Receipts wait as in the app, scaled (docs/privacy.md "Timing"); coins and order are seeded.
        receiptDelayMs: () => Math.round(defaultReceiptDelayMs(random) * timeScale),
        random: seededRandom((options.seed ?? 2026) + name.length * 7919 + name.charCodeAt(0)),
        node: () =>
          new NodePool({
            urls: proxies.get(name)!.map((p) => p.url),
            network: 'simnet',
            assignmentKey,
            client: { reconnect: { initialDelayMs: 50, maxDelayMs: 500 } },
          }),
      }),
    );
  }
  const u = (name: string): ChainUser => users.get(name)!;
  // Cards exchanged by invite, except two first contacts made over the chain: Carol does not
  // hold Alice's card and Erin does not hold Dave's, so those conversations start unannounced.
  u('alice').knows(u('bob'), u('carol'), u('erin'));
  u('bob').knows(u('alice'), u('carol'));
  u('carol').knows(u('bob'), u('dave'));
  u('dave').knows(u('carol'), u('erin'));
  u('erin').knows(u('alice'));
  // Who holds whose invite: the cards above.
  const INVITES: readonly (readonly [string, string])[] = [
    ['alice', 'bob'],
    ['alice', 'carol'],
    ['alice', 'erin'],
    ['bob', 'alice'],
    ['bob', 'carol'],
    ['carol', 'bob'],
    ['carol', 'dave'],
    ['dave', 'carol'],
    ['dave', 'erin'],
    ['erin', 'alice'],
  ];
  const firstSender = new Map([
    ['alice|carol', 'alice'],
    ['dave|erin', 'dave'],
  ]);

  let observer: KaspaRpcClient | undefined;
  try {
    devnet = await startDevnet({
      port: 0,
      controlPort: false,
      blocksPerSecond: 20,
      rpcPorts: Array.from({ length: NODES - 1 }, () => 0),
    });
    observer = new KaspaRpcClient({ urls: devnet.url });
    for (const name of users.keys())
      proxies.set(name, await Promise.all(devnet.urls.map((u) => RecordingProxy.start(u))));
    // Funding arrives as ordinary payments from one source (an exchange or a faucet).
    for (const user of users.values()) devnet.fund(user.address.toString(), 50n * SOMPI_PER_KAS);
    for (const user of users.values()) await user.start();
    // Every card came in an invite, each with a first-contact address of its own (Invite
    // version 5), as the app mints one per invite it shows.
    if (options.inviteAddresses !== false)
      for (const [holder, of] of INVITES) u(holder).holdsInvite(u(of), await u(of).chain.nextInviteAddress());

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
      try {
        await u(from).allOut(u(to), ['delivered', 'read'], count, 180_000);
      } catch (error) {
        // Say which messages are missing and where they stopped: never shown to the
        // recipient (a coin it did not find) or shown but not receipted (a receipt lost).
        const shown = new Set((await u(to).inbox(u(from))).map((m) => m.text));
        const stuck = (await u(from).outbox(u(to)))
          .flatMap((m) =>
            m.direction === 'out' && m.status !== 'delivered' && m.status !== 'read' ? [m] : [],
          )
          .map((m) => `"${m.text}" ${m.status}, ${shown.has(m.text) ? 'shown' : 'not shown'} to ${to}`);
        throw new Error(`${from} → ${to}: ${stuck.join('; ')}`, { cause: error });
      }
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
    const nodeView = devnet.urls.map(
      (_, i) => new Map([...proxies].map(([name, p]) => [name, p[i]!.connections] as const)),
    );
    return {
      txs,
      truth: { ownerOf, conversations: new Set(CONVERSATIONS.map(([a, b]) => key(a, b))) },
      nodeView,
      timeScale,
      messages: n,
      scriptOf: (address) => bytesToHex(addressToScriptPublicKey(Address.decode(address)).script),
    };
  } finally {
    observer?.close();
    for (const user of users.values()) await user.stop().catch(() => undefined);
    for (const ps of proxies.values()) for (const p of ps) await p.stop();
    await devnet?.stop();
  }
}

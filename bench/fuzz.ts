/**
 * `npm run fuzz [-- --inputs N] [--seed S] [--only name,name]`: structured mutation fuzzing of
 * every decoder of p2pComm. Each decoder gets valid samples made with the project's own
 * encoders (or, for the wRPC converters, real replies captured from the local network), and
 * mutants of them: bit flips, byte changes, truncation, extension, splices between samples,
 * deletions, duplications, length-like bytes set to edge values, and fully random input.
 *
 * A crash is any exception that is not one of the project's typed errors (`P2pCommError` and
 * its subclasses): a TypeError from reading a field of undefined, a RangeError from an
 * unchecked length, a stack overflow. A slow input is one that takes longer than
 * SLOW_BASE_MS + SLOW_MS_PER_KB per KB of input in the fastest of three runs (a linear budget:
 * anything superlinear in its size crosses it well before it would freeze an app; three runs,
 * because a collector pause on a shared machine is not the input's doing). A hang shows as the run not finishing.
 *
 * Decoders are driven through their public functions only (ContactCard.deserialize,
 * findFrames, SessionManager.tryDecrypt, ...), so the harness follows format changes.
 * Not part of `npm test`: the full run (1,000,000 inputs) takes minutes.
 */
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { P2pCommError } from '../src/util/errors.ts';
import { utf8ToBytes } from '../src/util/bytes.ts';
import { Identity } from '../src/core/identity/identity.ts';
import { ContactCard } from '../src/core/contact/card.ts';
import { SessionManager } from '../src/core/session/session-manager.ts';
import { Ratchet } from '../src/core/session/ratchet.ts';
import { createEnvelope, decodeEnvelope, encodeEnvelope } from '../src/core/envelope/envelope.ts';
import { pad, unpad } from '../src/core/envelope/padding.ts';
import { findFrames, packBatch, scanBatch, type BatchFrame } from '../src/core/envelope/batch.ts';
import { ReplayGuard } from '../src/core/envelope/replay-guard.ts';
import { Vault } from '../src/core/vault/vault.ts';
import { decodeRecoveryKey, encodeRecoveryKey } from '../src/core/identity/recovery-key.ts';
import { formatPeerId, parsePeerId } from '../src/core/identity/peer-id.ts';
import { decodeMessage } from '../src/core/delivery/messages.ts';
import { Address, AddressVersion } from '../src/kaspa/address.ts';
import { decodeTransaction, encodeTransaction } from '../src/kaspa/txid.ts';
import { parseJson, stringifyJson } from '../src/kaspa/rpc/json.ts';
import {
  mempoolEntryFromRpc,
  transactionFromRpc,
  transactionToRpc,
  utxoEntryFromRpc,
  utxosByAddressesEntryFromRpc,
} from '../src/kaspa/rpc/convert.ts';
import {
  blockDagInfoFromRpc,
  blockFromRpc,
  blockHeaderFromRpc,
  feeEstimateFromRpc,
  mempoolEntriesByAddressFromRpc,
  nodeInfoFromRpc,
  serverInfoFromRpc,
  virtualChainV2FromRpc,
} from '../src/kaspa/rpc/responses.ts';
import { FrameReassembler, encodeMessageFrames } from '../src/transport/framing.ts';
import { decodeSignal } from '../src/transport/signaling.ts';
import { decodeKey } from '../src/storage/keys.ts';
import { coinFromRpc, diffFromRpc, headerFromRpc } from '../src/devnet/codec.ts';
import { parseKas } from '../src/devnet/faucet.ts';
import { startDevnet } from '../src/devnet/index.ts';
import { BACKUP_STORES, encodeBackup, openBackup, readBackupHeader } from '../src/web/engine/backup.ts';
import { KaspaHdWallet } from '../src/kaspa/hd.ts';
import type { Transaction, TxId } from '../src/kaspa/types.ts';

/** Slow-input budget: 50 ms, plus 1 ms per KB of input. */
const SLOW_BASE_MS = 50;
const SLOW_MS_PER_KB = 1;

// ---------------------------------------------------------------------------------------
// Deterministic randomness (xorshift128+ seeded through splitmix64): a seed reproduces a run.
// ---------------------------------------------------------------------------------------

class Rng {
  #s0: bigint;
  #s1: bigint;
  constructor(seed: number) {
    let x = BigInt(seed) & 0xffff_ffff_ffff_ffffn;
    const next = (): bigint => {
      x = (x + 0x9e3779b97f4a7c15n) & 0xffff_ffff_ffff_ffffn;
      let z = x;
      z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & 0xffff_ffff_ffff_ffffn;
      z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & 0xffff_ffff_ffff_ffffn;
      return z ^ (z >> 31n);
    };
    this.#s0 = next();
    this.#s1 = next();
    this.#buf = new Uint32Array(0);
  }
  #buf: Uint32Array;
  #i = 0;
  /** Uniform 32-bit integer. */
  u32(): number {
    if (this.#i >= this.#buf.length) {
      this.#buf = new Uint32Array(256);
      for (let k = 0; k < 256; k += 2) {
        let s1 = this.#s0;
        const s0 = this.#s1;
        this.#s0 = s0;
        s1 = (s1 ^ (s1 << 23n)) & 0xffff_ffff_ffff_ffffn;
        this.#s1 = s1 ^ s0 ^ (s1 >> 17n) ^ (s0 >> 26n);
        const r = (this.#s1 + s0) & 0xffff_ffff_ffff_ffffn;
        this.#buf[k] = Number(r & 0xffff_ffffn);
        this.#buf[k + 1] = Number(r >> 32n);
      }
      this.#i = 0;
    }
    return this.#buf[this.#i++]!;
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : this.u32() % n;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

// ---------------------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------------------

const EDGE_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x20, 0x40];

/** One structured mutant of `sample` (other samples serve as splice donors). */
function mutate(rng: Rng, sample: Uint8Array, donors: readonly Uint8Array[]): Uint8Array {
  let b: Uint8Array = sample.slice();
  const rounds = 1 + rng.int(rng.int(4) === 0 ? 8 : 2);
  for (let r = 0; r < rounds; r++) {
    const n = b.length;
    switch (rng.int(11)) {
      case 0: // bit flip
        if (n > 0) b[rng.int(n)]! ^= 1 << rng.int(8);
        break;
      case 1: // random byte
        if (n > 0) b[rng.int(n)] = rng.u32() & 0xff;
        break;
      case 2: // truncate
        b = b.slice(0, rng.int(n + 1));
        break;
      case 3: // extend with random bytes
        b = concat(b, rng.bytes(1 + rng.int(64)));
        break;
      case 4: {
        // splice a chunk of a donor in
        const d = rng.pick(donors);
        const at = rng.int(n + 1);
        const from = rng.int(d.length + 1);
        const chunk = d.slice(from, from + 1 + rng.int(64));
        b = concat(b.slice(0, at), chunk, b.slice(at + (rng.int(2) === 0 ? chunk.length : 0)));
        break;
      }
      case 5: {
        // delete a range
        const at = rng.int(n + 1);
        b = concat(b.slice(0, at), b.slice(at + 1 + rng.int(16)));
        break;
      }
      case 6: {
        // duplicate a range
        const at = rng.int(n + 1);
        const chunk = b.slice(at, at + 1 + rng.int(32));
        b = concat(b.slice(0, at), chunk, b.slice(at));
        break;
      }
      case 7: // a length-like field set to an edge value (varuint and length prefixes)
        if (n > 0) b[rng.int(Math.min(n, 48))] = rng.pick(EDGE_BYTES);
        break;
      case 8: {
        // a 32-bit little- or big-endian length set to an edge value
        if (n >= 4) {
          const at = rng.int(n - 3);
          const v = rng.pick([0, 1, 0xff, 0xffff, 0x7fff_ffff, 0xffff_ffff, n, n + 1, n - 1]);
          new DataView(b.buffer, b.byteOffset).setUint32(at, v >>> 0, rng.int(2) === 0);
        }
        break;
      }
      case 9: // the sample unchanged (valid input must pass too)
        break;
      default: // fully random
        b = rng.bytes(rng.int(2 * n + 16));
    }
  }
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const textDecoder = new TextDecoder();
/** Text mutants: byte mutations of the UTF-8 (lossy decode), plus word-level edits. */
function mutateText(rng: Rng, i: number, samples: readonly string[], bytes: readonly Uint8Array[]): string {
  const sample = samples[i]!;
  if (rng.int(4) === 0) {
    const words = sample.split(/(\s+|:)/);
    const donor = rng.pick(samples).split(/(\s+|:)/);
    const at = rng.int(words.length);
    switch (rng.int(4)) {
      case 0:
        words.splice(at, 1);
        break;
      case 1:
        words.splice(at, 0, rng.pick(donor));
        break;
      case 2:
        words[at] = (words[at] ?? '').toUpperCase();
        break;
      default:
        words[at] = rng.pick([
          '',
          ' ',
          '\u0000',
          '\u00e4',
          '\ud800',
          '1'.repeat(1 + rng.int(5000)),
          '"',
          '\\',
        ]);
    }
    return words.join('');
  }
  return textDecoder.decode(mutate(rng, bytes[i]!, bytes));
}

// ---------------------------------------------------------------------------------------
// Decoders and their samples
// ---------------------------------------------------------------------------------------

interface Target {
  readonly name: string;
  /** Share of the inputs (weights are normalized; costly decoders take fewer). */
  readonly weight: number;
  /** One input; resolves or throws. `size` is the input length in bytes or characters. */
  next(rng: Rng): { size: number; run: () => unknown };
  /** Errors other than P2pCommError that this decoder documents (a text parser's RangeError). */
  readonly allowed?: readonly (abstract new (...args: never[]) => Error)[];
  /** Per-KB budget where the decoder's documented work per byte is higher than parsing. */
  readonly msPerKb?: number;
}

function bytesTarget(
  name: string,
  samples: readonly Uint8Array[],
  decode: (b: Uint8Array) => unknown,
  weight = 1,
): Target {
  return {
    name,
    weight,
    next: (rng) => {
      const input = mutate(rng, rng.pick(samples), samples);
      return { size: input.length, run: () => decode(input) };
    },
  };
}

function textTarget(
  name: string,
  samples: readonly string[],
  decode: (t: string) => unknown,
  weight = 1,
): Target {
  const bytes = samples.map((x) => utf8ToBytes(x));
  return {
    name,
    weight,
    next: (rng) => {
      const input = mutateText(rng, rng.int(samples.length), samples, bytes);
      return { size: input.length, run: () => decode(input) };
    },
  };
}

/** Real wRPC replies from the local network, as the node's own JSON text. */
async function captureReplies(): Promise<Map<string, string[]>> {
  const devnet = await startDevnet({ port: 0, blocksPerSecond: 0, controlPort: false });
  try {
    const wallet = KaspaHdWallet.fromSeed(new Uint8Array(64).fill(7), 'testnet');
    const addresses = [0, 1, 2].map((i) => wallet.address('kaspasim', 0, 0, i).toString());
    devnet.mine(1100); // coinbase maturity (FACTS §7.2), so the faucet can pay
    for (const a of addresses) devnet.fund(a, 150_000_000n);
    const ws = new WebSocket(devnet.url);
    await new Promise<void>((ok, fail) => {
      ws.once('open', () => ok());
      ws.once('error', fail);
    });
    let id = 0;
    const call = (method: string, params: unknown): Promise<string> =>
      new Promise((ok) => {
        const my = ++id;
        const onMessage = (data: Buffer): void => {
          const text = data.toString('utf8');
          if (text.includes(`"id":${my},`) || text.startsWith(`{"id":${my}`)) {
            ws.off('message', onMessage);
            ok(text);
          }
        };
        ws.on('message', onMessage);
        ws.send(stringifyJson({ id: my, method, params }));
      });
    const out = new Map<string, string[]>();
    const keep = (k: string, text: string): void => {
      out.set(k, [...(out.get(k) ?? []), text]);
    };
    keep(
      'getMempoolEntriesByAddresses',
      await call('getMempoolEntriesByAddresses', {
        addresses,
        includeOrphanPool: false,
        filterTransactionPool: false,
      }),
    );
    const sinkBefore = (parseJson(await call('getBlockDagInfo', {})) as { params: { sink: string } }).params
      .sink;
    devnet.mine(2);
    keep('getServerInfo', await call('getServerInfo', {}));
    keep('getInfo', await call('getInfo', {}));
    keep('getBlockDagInfo', await call('getBlockDagInfo', {}));
    keep('getFeeEstimate', await call('getFeeEstimate', {}));
    keep('getUtxosByAddresses', await call('getUtxosByAddresses', { addresses }));
    for (const verbosity of ['High', 'Full', 'Low'])
      keep(
        'getVirtualChainFromBlockV2',
        await call('getVirtualChainFromBlockV2', {
          startHash: sinkBefore,
          dataVerbosityLevel: verbosity,
          minConfirmationCount: null,
        }),
      );
    const dag = parseJson(await call('getBlockDagInfo', {})) as { params: { tipHashes: string[] } };
    for (const hash of dag.params.tipHashes)
      keep('getBlock', await call('getBlock', { hash, includeTransactions: true }));
    ws.close();
    return out;
  } finally {
    await devnet.stop();
  }
}

function params(text: string): unknown {
  return (parseJson(text) as { params?: unknown }).params;
}

async function targets(): Promise<Target[]> {
  const t: Target[] = [];
  // Identities, cards, sessions.
  const alice = Identity.fromSeed(new Uint8Array(32).fill(1));
  const bob = Identity.fromSeed(new Uint8Array(32).fill(2));
  const now = { t: 1_760_000_000_000 };
  // Cards are issued by each side's session manager, which holds the pre-keys they name.
  const manager = (id: Identity, name: string): { m: SessionManager; card: ContactCard } => {
    const m = SessionManager.create(id, { now: () => now.t });
    const card = m.issueOwnCard({
      displayName: name,
      addresses: [new Address('kaspatest', AddressVersion.PubKey, id.publicKey)],
      issuedAt: 1_760_000_000,
    });
    return { m, card };
  };
  const { m: a, card: aliceCard } = manager(alice, 'alice');
  const { m: b, card: bobCard } = manager(bob, 'Bob with a longer näme');
  a.addContact(bobCard);
  b.addContact(aliceCard);
  // Bob's state before any frame: a receiver holding the same pre-keys.
  const bobAtStart = b.serialize();
  const frames: Uint8Array[] = [];
  const firstContact = a.encrypt(bob.peerId, utf8ToBytes('first'));
  frames.push(firstContact);
  b.decrypt(firstContact);
  for (let i = 0; i < 6; i++) {
    frames.push(b.encrypt(alice.peerId, utf8ToBytes(`reply ${i}`)));
    a.decrypt(frames.at(-1)!);
    frames.push(a.encrypt(bob.peerId, utf8ToBytes(`message ${i} `.repeat(i * 10))));
  }
  // A second first contact that b has not yet seen, from a new identity (first-contact path).
  const carol = Identity.fromSeed(new Uint8Array(32).fill(3));
  const { m: c, card: carolCard } = manager(carol, 'carol');
  c.addContact(bobCard);
  frames.push(c.encrypt(bob.peerId, utf8ToBytes('hello from carol')));

  const cards = [aliceCard.serialize(), bobCard.serialize(), carolCard.serialize()];
  t.push(bytesTarget('contact card bytes', cards, (x) => ContactCard.deserialize(x), 0.1));
  t.push(
    textTarget(
      'contact card link',
      [aliceCard.toLink(), bobCard.toLink()],
      (x) => ContactCard.fromLink(x),
      0.1,
    ),
  );
  // The receive path of a fresh manager each time would cost a card check per input; one
  // long-lived receiver sees every mutant, as an app would.
  const receiver = SessionManager.deserialize(bob, bobAtStart, { now: () => now.t });
  t.push(bytesTarget('session receive (tryDecrypt)', frames, (x) => receiver.tryDecrypt(x), 0.004));
  t.push(bytesTarget('session receive (decrypt)', frames, (x) => b.decrypt(x), 0.004));
  t.push(
    bytesTarget(
      'session state',
      [a.serialize(), b.serialize()],
      (x) => SessionManager.deserialize(bob, x),
      0.002,
    ),
  );
  t.push(bytesTarget('ratchet state', [a.serialize(), b.serialize()], (x) => Ratchet.deserialize(x), 0.05));

  // Envelopes, padding, batches.
  const id16 = new Uint8Array(16).fill(9);
  const envelopes = [
    createEnvelope({ type: 'chat', text: 'hi there' }, now.t),
    createEnvelope({ type: 'chat', text: 'with reply ä', replyTo: id16 as never }, now.t),
    createEnvelope({ type: 'delivery-receipt', ids: [id16 as never, id16 as never] }, now.t),
    createEnvelope({ type: 'read-receipt', ids: [id16 as never] }, now.t),
    createEnvelope(
      { type: 'webrtc-offer', connectionId: new Uint8Array(16), sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' },
      now.t,
    ),
    createEnvelope({ type: 'webrtc-answer', connectionId: new Uint8Array(16), sdp: 'v=0\r\n' }, now.t),
    createEnvelope(
      {
        type: 'webrtc-ice',
        connectionId: new Uint8Array(16),
        candidates: [
          {
            candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host',
            sdpMid: '0',
            sdpMLineIndex: 0,
          },
        ],
        complete: true,
      },
      now.t,
    ),
    // Message actions (types 10, 11, 12, 14).
    createEnvelope({ type: 'reaction', target: id16 as never, reaction: 2 }, now.t),
    createEnvelope({ type: 'edit', target: id16 as never, text: 'edited \u05e9' }, now.t),
    createEnvelope({ type: 'delete', target: id16 as never }, now.t),
    createEnvelope({ type: 'forwarded', text: 'fwd' }, now.t),
  ];
  envelopes.push(createEnvelope({ type: 'bundle', envelopes: envelopes.slice(0, 3) }, now.t));
  const encoded = envelopes.map(encodeEnvelope);
  t.push(bytesTarget('envelope', encoded, decodeEnvelope));
  t.push(bytesTarget('padding (unpad)', encoded.map(pad), unpad));
  // frames[0] and the last frame start sessions (first contacts); the rest are ratchet frames.
  const entry = (f: Uint8Array, i: number): BatchFrame => ({
    bytes: f,
    firstContact: i === 0 || i === frames.length - 1,
  });
  const batches = [
    packBatch(frames.slice(0, 3).map(entry)),
    packBatch(frames.map(entry)),
    packBatch([entry(frames[0]!, 0)]),
  ];
  // The container alone: a receiver with no session and an unrelated pre-key sees only its shape.
  const outsider = SessionManager.create(Identity.fromSeed(new Uint8Array(32).fill(9)), { now: () => now.t });
  t.push(bytesTarget('batch container (findFrames)', batches, (x) => findFrames(x, outsider)));
  // A batch entry that matches no tag costs one X25519 per active pre-key (crypto.md §6): about
  // 1 ms per smallest first-contact entry (FIRST_CONTACT_OVERHEAD bytes), so the budget here is
  // 20 ms per KB, still linear in the payload.
  t.push({
    ...bytesTarget(
      'batch scan (scanBatch, tag lookup)',
      batches,
      (x) => scanBatch(x, receiver, new ReplayGuard(), now.t),
      0.0006,
    ),
    msPerKb: 20,
  });

  // Vault: a cheap KDF header (log2 N = 10), so the mutants that reach the KDF stay fast.
  const vaults = [
    (await Vault.create('password', new Uint8Array(32).fill(5), { logN: 10, r: 1, p: 1 })).serialize(),
  ];
  t.push({
    name: 'vault bytes (unlock)',
    weight: 0.005,
    next: (rng) => {
      const input = mutate(rng, rng.pick(vaults), vaults);
      return { size: input.length, run: () => Vault.unlock(input, 'password') };
    },
  });

  // Backup file.
  const seed = new Uint8Array(32).fill(5);
  const backup = encodeBackup(
    {
      vault: vaults[0]!,
      displayName: 'Bob',
      records: [
        { store: BACKUP_STORES[0]!, key: utf8ToBytes('k1'), value: cards[0]! },
        { store: BACKUP_STORES[0]!, key: utf8ToBytes('k2'), value: new Uint8Array(300).fill(1) },
      ],
    },
    seed,
  );
  t.push(bytesTarget('backup header (readBackupHeader)', [backup], readBackupHeader));
  t.push(bytesTarget('backup file (openBackup)', [backup], (x) => openBackup(x, seed)));

  // Texts.
  t.push(
    textTarget(
      'recovery key text',
      [encodeRecoveryKey(seed), encodeRecoveryKey(new Uint8Array(32))],
      decodeRecoveryKey,
      0.5,
    ),
  );
  t.push(textTarget('peer id text', [formatPeerId(alice.peerId), formatPeerId(bob.peerId)], parsePeerId));
  const addressTexts = [
    'kaspa:qqzrk3a4acjla3zc9ngr37u4grtkr0k0mqf6qhmd9lteks00av6asl6rqhjnm',
    'kaspatest:qxaqrlzlf6wes72en3568khahq66wf27tuhfxn5nytkd8tcep2c0vrse6gdmpks',
    'kaspa:pqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqlmtfk4dg',
  ];
  t.push(textTarget('Kaspa address text', addressTexts, (x) => Address.decode(x)));
  // parseKas refuses with RangeError by contract (STYLE §1); the control endpoint answers 400.
  t.push({
    ...textTarget('faucet amount (parseKas)', ['100', '1.5', '0.00000001'], parseKas, 0.3),
    allowed: [RangeError],
  });

  // Transactions.
  const tx: Transaction = {
    version: 0,
    inputs: [
      {
        previousOutpoint: { transactionId: new Uint8Array(32).fill(0xaa) as TxId, index: 0 },
        signatureScript: new Uint8Array(66).fill(7),
        sequence: 0n,
        sigOpCount: 1,
        computeBudget: 0,
      },
    ],
    outputs: [{ value: 20_000_000n, scriptPublicKey: { version: 0, script: new Uint8Array(34).fill(1) } }],
    lockTime: 0n,
    subnetworkId: new Uint8Array(20),
    gas: 0n,
    payload: new Uint8Array(200).fill(3),
    storageMass: 52_535n,
  };
  const tx1: Transaction = {
    ...tx,
    version: 1,
    inputs: tx.inputs.map((i) => ({ ...i, sigOpCount: 0, computeBudget: 10 })),
  };
  t.push(
    bytesTarget(
      'transaction decode',
      [tx, tx1].map((x) =>
        encodeTransaction(x, { signatureScripts: true, payload: true, massCommitment: true }),
      ),
      (x) => decodeTransaction(x),
    ),
  );

  // Transport framing: one reassembler, as one data channel has.
  const messageFrames = [
    ...encodeMessageFrames(new Uint8Array(5000).fill(4), 1024),
    ...encodeMessageFrames(new Uint8Array(10).fill(4), 1024),
  ];
  const reassembler = new FrameReassembler(64 * 1024);
  t.push(bytesTarget('transport framing (FrameReassembler)', messageFrames, (x) => reassembler.push(x)));
  t.push(bytesTarget('WebRTC signal (decodeSignal)', encoded, decodeSignal, 0.5));
  t.push(bytesTarget('stored message (decodeMessage)', encoded, decodeMessage, 0.5));
  t.push(
    bytesTarget(
      'storage key (decodeKey)',
      [utf8ToBytes('contacts/abc'), new Uint8Array([1, 2, 0, 3])],
      decodeKey,
      0.5,
    ),
  );

  // wRPC JSON: real replies of the local network, mutated as text, then converted.
  const replies = await captureReplies();
  const all = [...replies.values()].flat();
  t.push(textTarget('RPC JSON (parseJson)', all, parseJson, 0.3));
  const converters: [string, string, (p: unknown) => unknown][] = [
    ['getServerInfo', 'serverInfoFromRpc', (p) => serverInfoFromRpc(p)],
    ['getInfo', 'nodeInfoFromRpc', (p) => nodeInfoFromRpc(p)],
    ['getBlockDagInfo', 'blockDagInfoFromRpc', (p) => blockDagInfoFromRpc(p)],
    [
      'getFeeEstimate',
      'feeEstimateFromRpc',
      (p) => feeEstimateFromRpc((p as { estimate?: unknown } | undefined)?.estimate),
    ],
    [
      'getMempoolEntriesByAddresses',
      'mempoolEntriesByAddressFromRpc',
      (p) =>
        ((p as { entries?: unknown[] } | undefined)?.entries ?? [p]).map((e) =>
          mempoolEntriesByAddressFromRpc(e, 'entry'),
        ),
    ],
    [
      'getUtxosByAddresses',
      'utxosByAddressesEntryFromRpc',
      (p) =>
        ((p as { entries?: unknown[] } | undefined)?.entries ?? [p]).map((e) =>
          utxosByAddressesEntryFromRpc(e),
        ),
    ],
    ['getVirtualChainFromBlockV2', 'virtualChainV2FromRpc', (p) => virtualChainV2FromRpc(p)],
    ['getBlock', 'blockFromRpc', (p) => blockFromRpc((p as { block?: unknown } | undefined)?.block)],
    [
      'getBlock',
      'blockHeaderFromRpc',
      (p) => blockHeaderFromRpc((p as { block?: { header?: unknown } } | undefined)?.block?.header),
    ],
    [
      'getBlock',
      'devnet headerFromRpc',
      (p) => headerFromRpc((p as { block?: { header?: unknown } } | undefined)?.block?.header),
    ],
    [
      'getUtxosByAddresses',
      'devnet coinFromRpc / diffFromRpc',
      (p) => {
        const entries = (p as { entries?: unknown[] } | undefined)?.entries ?? [];
        return (
          diffFromRpc({ added: entries, removed: entries.slice(0, 1) }) && entries.map((e) => coinFromRpc(e))
        );
      },
    ],
  ];
  for (const [method, name, convert] of converters) {
    const texts = replies.get(method) ?? [];
    if (texts.length === 0) throw new Error(`no ${method} reply captured`);
    t.push(
      textTarget(
        `wire: ${name}`,
        texts,
        (x) => convert(params(x)),
        method === 'getVirtualChainFromBlockV2' || method === 'getBlock' ? 0.08 : 0.5,
      ),
    );
  }
  const txJson = [stringifyJson(transactionToRpc(tx)), stringifyJson(transactionToRpc(tx1))];
  t.push(textTarget('wire: transactionFromRpc', txJson, (x) => transactionFromRpc(parseJson(x))));
  const entryJson = (replies.get('getUtxosByAddresses') ?? []).flatMap((r) =>
    ((params(r) as { entries: { utxoEntry: unknown }[] }).entries ?? []).map((e) =>
      stringifyJson(e.utxoEntry as never),
    ),
  );
  t.push(textTarget('wire: utxoEntryFromRpc', entryJson, (x) => utxoEntryFromRpc(parseJson(x)), 0.5));
  t.push(
    textTarget(
      'wire: mempoolEntryFromRpc',
      txJson.map((j) => `{"fee":1000,"transaction":${j},"is_orphan":false}`),
      (x) => mempoolEntryFromRpc(parseJson(x)),
      0.5,
    ),
  );
  return t;
}

// ---------------------------------------------------------------------------------------
// Run
// ---------------------------------------------------------------------------------------

interface Row {
  name: string;
  inputs: number;
  crashes: number;
  slow: number;
  maxMs: number;
  seconds: number;
  firstCrash?: string;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      inputs: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '1' },
      only: { type: 'string' },
    },
    strict: true,
  });
  const total = Number(values.inputs);
  const seed = Number(values.seed);
  if (!Number.isSafeInteger(total) || total < 1)
    throw new RangeError(`"--inputs" expected a positive integer, got ${values.inputs}`);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`"--seed" expected an integer, got ${values.seed}`);
  let list = await targets();
  if (values.only !== undefined) {
    const names = values.only.split(',');
    list = list.filter((x) => names.some((n) => x.name.includes(n)));
  }
  const weights = list.reduce((s, x) => s + x.weight, 0);
  const rows: Row[] = [];
  const started = performance.now();
  for (const [k, target] of list.entries()) {
    const rng = new Rng(seed * 1_000_003 + k);
    const n = Math.max(1, Math.round((total * target.weight) / weights));
    const row: Row = { name: target.name, inputs: 0, crashes: 0, slow: 0, maxMs: 0, seconds: 0 };
    const rowStart = performance.now();
    for (let i = 0; i < n; i++) {
      const { size, run } = target.next(rng);
      const t0 = performance.now();
      try {
        const r = run();
        if (r instanceof Promise) await r;
      } catch (e) {
        if (!(e instanceof P2pCommError) && !(target.allowed ?? []).some((type) => e instanceof type)) {
          row.crashes++;
          row.firstCrash ??=
            `input ${i}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`.slice(0, 200);
        }
      }
      let ms = performance.now() - t0;
      const budget = SLOW_BASE_MS + ((target.msPerKb ?? SLOW_MS_PER_KB) * size) / 1024;
      // A pause of the collector or of a shared core is not the input's doing: an input is
      // slow only if the fastest of three runs is over budget.
      for (let again = 0; again < 2 && ms > budget; again++) {
        const t1 = performance.now();
        try {
          const r = run();
          if (r instanceof Promise) await r;
        } catch {
          // Outcome already counted on the first run.
        }
        ms = Math.min(ms, performance.now() - t1);
      }
      row.inputs++;
      if (ms > row.maxMs) row.maxMs = ms;
      if (ms > budget) row.slow++;
    }
    row.seconds = (performance.now() - rowStart) / 1000;
    rows.push(row);
    process.stderr.write(`  ${target.name}: ${row.inputs} inputs, ${row.crashes} crashes\n`);
  }
  const width = Math.max(...rows.map((r) => r.name.length), 7);
  const line = (c: string[]): string =>
    `| ${c[0]!.padEnd(width)} | ${c[1]!.padStart(9)} | ${c[2]!.padStart(7)} | ${c[3]!.padStart(4)} | ${c[4]!.padStart(8)} | ${c[5]!.padStart(6)} |`;
  console.log(
    `\nfuzz: seed ${seed}, ${rows.reduce((s, r) => s + r.inputs, 0)} inputs, ${((performance.now() - started) / 1000).toFixed(0)} s; slow = over ${SLOW_BASE_MS} ms + ${SLOW_MS_PER_KB} ms per KB\n`,
  );
  console.log(line(['decoder', 'inputs', 'crashes', 'slow', 'max ms', 'time s']));
  console.log(
    `|${'-'.repeat(width + 2)}|${'-'.repeat(11)}|${'-'.repeat(9)}|${'-'.repeat(6)}|${'-'.repeat(10)}|${'-'.repeat(8)}|`,
  );
  for (const r of rows)
    console.log(
      line([
        r.name,
        String(r.inputs),
        String(r.crashes),
        String(r.slow),
        r.maxMs.toFixed(1),
        r.seconds.toFixed(1),
      ]),
    );
  const crashed = rows.filter((r) => r.firstCrash !== undefined);
  for (const r of crashed) console.log(`\ncrash in ${r.name}: ${r.firstCrash!}`);
  if (crashed.length > 0 || rows.some((r) => r.slow > 0)) process.exitCode = 1;
}

await main();

/** Shared fixtures of the devnet tests: keys, a P2PK transaction builder over the shared library, a client. */
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { WebSocket } from 'ws';
import { parseJson, stringifyJson } from '../../src/kaspa/rpc/json.ts';
import { hexToBytes } from '../../src/util/bytes.ts';
import { Address, AddressVersion } from '../../src/kaspa/address.ts';
import { P2PK_COMPUTE_BUDGET, P2PK_SIG_OP_COUNT, storageMass } from '../../src/kaspa/mass.ts';
import { minimumRelayFee } from '../../src/kaspa/fee.ts';
import { P2PK_SIGNATURE_SCRIPT_LENGTH, payToPubKey, payToPubKeyEcdsa } from '../../src/kaspa/script.ts';
import { signTransaction } from '../../src/kaspa/sign.ts';
import type { SigHashType } from '../../src/kaspa/sighash.ts';
import { KaspaRpcClient } from '../../src/kaspa/rpc/client.ts';
import {
  NATIVE_SUBNETWORK_ID,
  type ScriptPublicKey,
  type Transaction,
  type Utxo,
} from '../../src/kaspa/types.ts';

/** A test wallet key with its script and `kaspasim:` address. */
export interface TestKey {
  readonly secret: Uint8Array;
  readonly script: ScriptPublicKey;
  readonly address: string;
}

/** Schnorr key (FACTS §2.3 `m/44'/111111'/0'/0/0`, so its address is a FACTS vector). */
export function schnorrKey(secretHex: string): TestKey {
  const secret = hexToBytes(secretHex);
  const xonly = schnorr.getPublicKey(secret);
  return {
    secret,
    script: payToPubKey(xonly),
    address: new Address('kaspasim', AddressVersion.PubKey, xonly).toString(),
  };
}

/** ECDSA key (P2PK-ECDSA, FACTS §2.2). */
export function ecdsaKey(secretHex: string): TestKey {
  const secret = hexToBytes(secretHex);
  const pub = secp256k1.getPublicKey(secret, true);
  return {
    secret,
    script: payToPubKeyEcdsa(pub),
    address: new Address('kaspasim', AddressVersion.PubKeyECDSA, pub).toString(),
  };
}

export const ALICE = schnorrKey('1e59bd4c9c744db9b118eadfe2becf49ee36499d50174bc1209267d323397ca9');
export const BOB = schnorrKey('bdd3074cf5aa6219c40f1115175951d09db600781e644c22369abcec9e3559e6');
export const CAROL = ecdsaKey('f961df54f9c8486d9efa701c037e73e6befa1a812d29a26ea651ed1b296ca1e4');

/** What a spend should look like. */
export interface SpendOptions {
  readonly version?: 0 | 1;
  /** Paid to `to`; the rest minus the fee returns to the spender. */
  readonly amount: bigint;
  readonly to: ScriptPublicKey;
  /** Fee; default the node's minimum relay fee. */
  readonly fee?: bigint;
  readonly payload?: Uint8Array;
  readonly hashType?: SigHashType;
  /** Send the whole coin minus the fee to `to`, with no change output. */
  readonly sweep?: boolean;
}

/** A signed P2PK spend of `coins` (all owned by `key`), built and signed with the shared library. */
export function spend(key: TestKey, coins: readonly Utxo[], opts: SpendOptions): Transaction {
  const version = opts.version ?? 0;
  const total = coins.reduce((s, c) => s + c.entry.amount, 0n);
  const draft = (change: bigint, sig: Uint8Array): Transaction => ({
    version,
    inputs: coins.map((c) => ({
      previousOutpoint: c.outpoint,
      signatureScript: sig,
      sequence: 0n,
      sigOpCount: version === 0 ? P2PK_SIG_OP_COUNT : 0,
      computeBudget: version === 1 ? P2PK_COMPUTE_BUDGET : 0,
    })),
    outputs:
      opts.sweep === true
        ? [{ value: change, scriptPublicKey: opts.to }]
        : [
            { value: opts.amount, scriptPublicKey: opts.to },
            { value: change, scriptPublicKey: key.script },
          ],
    lockTime: 0n,
    subnetworkId: NATIVE_SUBNETWORK_ID,
    gas: 0n,
    payload: opts.payload ?? new Uint8Array(0),
    storageMass: 0n,
  });
  const rest = (fee: bigint): bigint => (opts.sweep === true ? total - fee : total - opts.amount - fee);
  const fee = opts.fee ?? minimumRelayFee(draft(rest(0n), new Uint8Array(P2PK_SIGNATURE_SCRIPT_LENGTH)));
  const unsigned = draft(rest(fee), new Uint8Array(0));
  const withMass = {
    ...unsigned,
    storageMass:
      storageMass(
        unsigned,
        coins.map((c) => c.entry),
      ) ?? 0n,
  };
  return signTransaction(
    withMass,
    coins.map((c) => c.entry),
    coins.map(() => key.secret),
    opts.hashType === undefined ? {} : { hashType: opts.hashType },
  );
}

/** A connected client that never reconnects (tests want to see drops). */
export async function connect(url: string): Promise<KaspaRpcClient> {
  const client = new KaspaRpcClient({
    urls: url,
    reconnect: false,
    heartbeatMs: 0,
    requestTimeoutMs: 10_000,
  });
  await client.connect();
  return client;
}

/** Resolves with the first value `register` reports that satisfies `predicate`. */
export function waitFor<T>(
  register: (push: (value: T) => void) => void,
  predicate: (value: T) => boolean = () => true,
): Promise<T> {
  return new Promise((resolve) => {
    let done = false;
    register((value) => {
      if (!done && predicate(value)) {
        done = true;
        resolve(value);
      }
    });
  });
}

/** Rejects with a named error when `p` has not settled within `ms`: no await in a test can hang. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** A JSON frame as parsed from the wire. */
export type Frame = Record<string, unknown>;

/** A bare WebSocket client speaking the wRPC JSON envelope, with a time limit on every wait. */
export class RawSocket {
  readonly frames: Frame[] = [];
  readonly closed: Promise<void>;
  #waiters: (() => void)[] = [];
  #nextId = 1;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d: Buffer) => {
      try {
        this.frames.push(parseJson(d.toString('utf8')) as Frame);
      } catch {
        this.frames.push({ unparsable: d.length });
      }
      for (const w of this.#waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()));
    ws.on('error', () => undefined);
  }

  static async open(url: string, ms = 10_000): Promise<RawSocket> {
    const ws = new WebSocket(url, { maxPayload: 256 * 1024 * 1024 });
    try {
      await within(
        new Promise((resolve, reject) => {
          ws.once('open', resolve);
          ws.once('error', reject);
        }),
        ms,
        `connect to ${url}`,
      );
    } catch (e) {
      ws.terminate();
      throw e;
    }
    return new RawSocket(ws);
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(text: string | Buffer): void {
    if (this.isOpen) this.ws.send(text);
  }

  /** The first frame (received or to come) that satisfies `predicate`, removed from the queue. */
  async next(predicate: (f: Frame) => boolean, ms = 10_000): Promise<Frame> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.frames.findIndex(predicate);
      if (i >= 0) return this.frames.splice(i, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for a frame`);
      await within(new Promise<void>((resolve) => this.#waiters.push(resolve)), left, 'a frame').catch(
        () => undefined,
      );
    }
  }

  /** Sends a request and waits for its reply. */
  async call(method: string, params: unknown, ms = 10_000): Promise<Frame> {
    const id = this.#nextId++;
    this.send(stringifyJson({ id, method, params }));
    return this.next((f) => f['id'] === id, ms);
  }

  close(): void {
    this.ws.terminate();
  }
}

/**
 * The faucet: funds any address with a real, signed transaction from a reserve the network
 * allocates to itself, so a funded wallet sees exactly what it would see on a real network
 * (mempool entry, UtxosChanged, acceptance in the virtual chain), not coins appearing from nowhere.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { blake2b } from '@noble/hashes/blake2.js';
import { utf8ToBytes } from '../util/bytes.ts';
import { Address, AddressVersion, addressToScriptPublicKey } from '../kaspa/address.ts';
import { P2PK_SIG_OP_COUNT } from '../kaspa/mass.ts';
import { P2PK_SIGNATURE_SCRIPT_LENGTH, payToPubKey } from '../kaspa/script.ts';
import { signTransaction } from '../kaspa/sign.ts';
import {
  NATIVE_SUBNETWORK_ID,
  SOMPI_PER_KAS,
  type ScriptPublicKey,
  type Transaction,
  type Utxo,
} from '../kaspa/types.ts';
import type { Chain } from './chain.ts';
import { DevnetError } from './errors.ts';
import type { MempoolEntry } from './mempool.ts';
import { ADDRESS_PREFIX } from './params.ts';
import { minimumRelayFee, storageMass } from './rules.ts';
import { spkKey } from './utxo-set.ts';

/** Size of the reserve the faucet allocates to itself when it runs dry: 1 billion KAS. */
const RESERVE = 1_000_000_000n * SOMPI_PER_KAS;

/**
 * The faucet's key. Derived from a public label on purpose: the local network has no secrets,
 * and a fixed key keeps the faucet address stable across restarts of a data directory.
 */
const FAUCET_KEY = blake2b(utf8ToBytes('p2pcomm devnet faucet'), { dkLen: 32 });

/** Parses a KAS amount ("100", "0.5", up to 8 decimals) into sompi. */
export function parseKas(text: string): bigint {
  if (typeof text !== 'string' || !/^\d{1,11}(\.\d{1,8})?$/.test(text)) {
    throw new RangeError(`"amount" expected KAS with at most 8 decimals, got ${String(text)}`);
  }
  const [whole, frac = ''] = text.split('.');
  return BigInt(whole!) * SOMPI_PER_KAS + BigInt(frac.padEnd(8, '0'));
}

/** Sends coins from the network's own reserve. */
export class Faucet {
  readonly script: ScriptPublicKey;
  readonly address: string;
  readonly #chain: Chain;

  constructor(chain: Chain) {
    this.#chain = chain;
    this.script = payToPubKey(schnorr.getPublicKey(FAUCET_KEY));
    this.address = new Address(
      ADDRESS_PREFIX,
      AddressVersion.PubKey,
      this.script.script.subarray(1, 33),
    ).toString();
  }

  /**
   * Submits a transaction paying `amount` sompi to `address` (a `kaspasim:` address; any other
   * network is refused) and returns its mempool entry.
   */
  fund(address: string, amount: bigint): MempoolEntry {
    const target = Address.decode(address);
    if (target.prefix !== ADDRESS_PREFIX) {
      throw new DevnetError('BAD_REQUEST', `The address has an invalid prefix ${target.prefix}`);
    }
    if (typeof amount !== 'bigint' || amount <= 0n || amount > RESERVE / 2n) {
      throw new RangeError(`"amount" expected 1..${RESERVE / 2n} sompi, got ${String(amount)}`);
    }
    const coin = this.#coin(amount);
    const draft = (change: bigint, signatureScript: Uint8Array): Transaction => ({
      version: 0,
      inputs: [
        {
          previousOutpoint: coin.outpoint,
          signatureScript,
          sequence: 0n,
          sigOpCount: P2PK_SIG_OP_COUNT,
          computeBudget: 0,
        },
      ],
      outputs: [
        { value: amount, scriptPublicKey: addressToScriptPublicKey(target) },
        { value: change, scriptPublicKey: this.script },
      ],
      lockTime: 0n,
      subnetworkId: NATIVE_SUBNETWORK_ID,
      gas: 0n,
      payload: new Uint8Array(0),
      storageMass: 0n,
    });
    // The fee is the node's minimum for the signed size (a P2PK signature script has a fixed length).
    const fee = minimumRelayFee(
      draft(coin.entry.amount - amount, new Uint8Array(P2PK_SIGNATURE_SCRIPT_LENGTH)),
    );
    const unsigned = draft(coin.entry.amount - amount - fee, new Uint8Array(0));
    const withMass = { ...unsigned, storageMass: storageMass(unsigned, [coin.entry]) ?? 0n };
    const signed = signTransaction(withMass, [coin.entry], [FAUCET_KEY]);
    return this.#chain.submitTransaction(signed);
  }

  /** A spendable faucet coin large enough for `amount`: unspent, mature, the largest first. */
  #coin(amount: bigint): Utxo {
    const chain = this.#chain;
    const key = spkKey(this.script);
    const candidates: Utxo[] = [];
    for (const u of chain.utxos.byScript(this.script)) candidates.push(u);
    // Change of faucet transactions still in the mempool is spendable too (chained spends).
    for (const e of chain.mempool.entries()) {
      e.tx.outputs.forEach((o, index) => {
        if (spkKey(o.scriptPublicKey) === key) {
          candidates.push({
            outpoint: { transactionId: e.id, index },
            entry: {
              amount: o.value,
              scriptPublicKey: o.scriptPublicKey,
              blockDaaScore: chain.virtualDaaScore,
              isCoinbase: false,
            },
          });
        }
      });
    }
    const spendable = candidates
      .filter((u) => chain.mempool.spenderOf(u.outpoint) === undefined)
      .filter(
        (u) => !u.entry.isCoinbase || u.entry.blockDaaScore + chain.coinbaseMaturity <= chain.virtualDaaScore,
      )
      .filter((u) => u.entry.amount > amount + SOMPI_PER_KAS)
      .sort((a, b) => (a.entry.amount > b.entry.amount ? -1 : 1));
    return spendable[0] ?? chain.allocate(this.script, RESERVE);
  }
}

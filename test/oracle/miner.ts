/**
 * A miner and faucet on a real simnet node for the checks against kaspad (docs/devnet.md
 * "Running it against a real kaspad"): blocks are mined as a miner would (getBlockTemplate,
 * then submitBlock unchanged: simnet skips proof of work, FACTS §7.2), and `fund` pays from
 * the key's mature coins. Payments are made one at a time and the coins they spent are kept
 * aside, because kaspad's getUtxosByAddresses lists a coin until the block that spends it, so
 * two payments in a row would otherwise spend the same coin and the second be refused.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { Address, AddressVersion } from '../../src/kaspa/address.ts';
import { buildTransaction } from '../../src/kaspa/builder.ts';
import type { KaspaRpcClient } from '../../src/kaspa/rpc/client.ts';
import { signTransaction } from '../../src/kaspa/sign.ts';
import { outpointKey } from '../../src/kaspa/utxo-watcher.ts';
import { bytesToHex } from '../../src/util/bytes.ts';

/** Coinbase maturity on every network (FACTS §7). */
const COINBASE_MATURITY = 1000n;
/** Coins a payment spends at most: the largest mature ones, enough for any faucet amount. */
const MAX_INPUTS = 8;

export interface Miner {
  /** The key's P2PK `kaspasim:` address, where mined coins go and change returns. */
  readonly address: Address;
  /** Pays `sompi` to each address in one transaction; resolves with its id (hex). */
  fund(to: readonly string[], sompi: bigint): Promise<string>;
  /** Stops mining (after the block in progress). */
  stop(): Promise<void>;
}

/** Mines a block every `intervalMs` to `key`'s address on the node of `client` until stopped. */
export function startMiner(client: KaspaRpcClient, key: Uint8Array, intervalMs = 100): Miner {
  const address = new Address('kaspasim', AddressVersion.PubKey, schnorr.getPublicKey(key));
  let mining = true;
  const mined = (async () => {
    while (mining) {
      const { block } = await client.getBlockTemplate(address.toString());
      await client.submitBlock(block);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  const spent = new Set<string>();
  let queue: Promise<unknown> = Promise.resolve();

  async function pay(to: readonly string[], sompi: bigint): Promise<string> {
    const { virtualDaaScore } = await client.getBlockDagInfo();
    const coins = (await client.getUtxosByAddresses([address.toString()]))
      .filter((u) => !u.entry.isCoinbase || u.entry.blockDaaScore + COINBASE_MATURITY <= virtualDaaScore)
      .filter((u) => !spent.has(outpointKey(u.outpoint)))
      .sort((a, b) => (a.entry.amount > b.entry.amount ? -1 : a.entry.amount < b.entry.amount ? 1 : 0))
      .slice(0, MAX_INPUTS);
    const built = buildTransaction({
      utxos: coins,
      outputs: to.map((a) => ({ to: Address.decode(a, 'kaspasim'), amount: sompi })),
      changeAddress: address,
    });
    const signed = signTransaction(
      built.tx,
      built.spent,
      built.spent.map(() => key),
    );
    const id = bytesToHex(await client.submitTransaction(signed));
    for (const u of built.utxos) spent.add(outpointKey(u.outpoint));
    return id;
  }

  return {
    address,
    fund(to, sompi) {
      const next = queue.then(() => pay(to, sompi));
      queue = next.catch(() => undefined);
      return next;
    },
    async stop() {
      mining = false;
      await mined.catch(() => undefined);
    },
  };
}

/**
 * A client with no saved position that already holds coins (a profile whose card went out
 * before it reached a node, a restored wallet): each coin may carry a message, so its payload
 * is looked for from the node's pruning point (core/delivery/kaspa-chain.ts). The coins are
 * taken in acceptance order, so one pass over the chain serves them all: a scan per coin from
 * the pruning point would page the whole pruning window (about 30 h of blocks on mainnet,
 * NOTES §3) once per coin at start-up.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDevnet, type DevnetHandle } from '../../../src/devnet/index.ts';
import { KaspaRpcClient } from '../../../src/kaspa/rpc/client.ts';
import { bytesToHex } from '../../../src/util/bytes.ts';
import { SOMPI_PER_KAS } from '../../../src/kaspa/types.ts';
import { ChainUser, prefund } from './kaspa.ts';

/** More than one page of getVirtualChainFromBlockV2 (2,480 chain blocks, FACTS §6.5). */
const APART = 2_600;
/** Coins paid to the card address besides the prefunded one. */
const COINS = 4;

describe('a fresh client holding coins spread over the chain', { timeout: 600_000 }, () => {
  it('finds every coin by one scan from the pruning point, and counts them all as funds', async () => {
    const box: { devnet?: DevnetHandle } = {};
    /** Where each virtual-chain page the client asks for starts (block hash hex). */
    const starts: string[] = [];
    const carol = new ChainUser('carol', () => box.devnet!.url, {
      node: () => {
        const client = new KaspaRpcClient({
          urls: box.devnet!.url,
          reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
        });
        const page = client.getVirtualChainFromBlockV2.bind(client);
        client.getVirtualChainFromBlockV2 = (start, opts) => {
          starts.push(bytesToHex(start));
          return page(start, opts);
        };
        return client;
      },
    });
    const devnet = (box.devnet = await startDevnet({
      port: 0,
      controlPort: false,
      blocksPerSecond: 0,
      prefund: prefund(carol),
    }));
    try {
      const card = carol.address.toString();
      for (let i = 0; i < COINS; i++) {
        devnet.mine(APART);
        devnet.fund(card, SOMPI_PER_KAS);
        devnet.mine(1);
      }
      const probe = new KaspaRpcClient({ urls: devnet.url });
      await probe.connect();
      const tip = (await probe.getBlockDagInfo()).virtualDaaScore;
      probe.close();

      await carol.start();
      const funds = await carol.chain.funds();
      assert.equal(
        funds.spendable,
        (100n + BigInt(COINS)) * SOMPI_PER_KAS,
        'every coin held is counted as funds',
      );
      assert.ok(
        !carol.events.some((e) => e.type === 'pruned'),
        'a coin held at start was taken as a lost message',
      );
      // One pass: each page of the chain once, plus at most one page per coin (a page can end
      // just before a coin, and a miss stops at the first block past it).
      const chainPages = Math.ceil(Number(tip) / 2_480);
      const coins = COINS + 1;
      assert.ok(
        starts.length <= chainPages + coins,
        `${starts.length} pages asked for: a ${chainPages}-page chain holding ${coins} coins`,
      );
    } finally {
      await carol.stop().catch(() => undefined);
      await devnet.stop();
    }
  });
});

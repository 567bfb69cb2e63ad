/**
 * Funding a publication from many coins. The candidates are every spendable coin, but only
 * the coins a publication spends are signed: a key is derived (BIP-32, two child steps) per
 * coin signed, not per coin held, however many times a publication is tried with other coins
 * (its contact's pool, a refill, any coin).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDevnet, type DevnetHandle } from '../../../src/devnet/index.ts';
import { SOMPI_PER_KAS } from '../../../src/kaspa/types.ts';
import { ChainUser } from './kaspa.ts';
import { until } from './harness.ts';

/** Coins held, each too small for a refill of a contact's pool (docs/privacy.md "Funding"). */
const COINS = 10;

describe('funding a publication from many coins', { timeout: 300_000 }, () => {
  it('derives the keys of the coins it spends only', async () => {
    const box: { devnet?: DevnetHandle } = {};
    const carol = new ChainUser('carol', () => box.devnet!.url);
    const bob = new ChainUser('bob', () => box.devnet!.url);
    carol.knows(bob);
    const card = carol.address.toString();
    const devnet = (box.devnet = await startDevnet({
      port: 0,
      controlPort: false,
      blocksPerSecond: 20,
      prefund: { [card]: 10n * SOMPI_PER_KAS },
    }));
    try {
      for (let i = 1; i < COINS; i++) devnet.fund(card, 10n * SOMPI_PER_KAS);
      devnet.mine(2);
      await carol.start();
      await until(
        'every coin counted',
        async () => (await carol.chain.funds()).spendable === BigInt(COINS) * 10n * SOMPI_PER_KAS,
        60_000,
      );
      let derived = 0;
      const derive = carol.wallet.privateKey.bind(carol.wallet);
      carol.wallet.privateKey = (...args) => {
        derived++;
        return derive(...args);
      };
      const sent = await carol.engine.send(bob.id, 'from one coin of ten');
      await until(
        'the message accepted',
        async () => (await carol.engine.message(sent.id))?.proof?.acceptingDaaScore !== undefined,
        60_000,
      );
      // The refill's source (refused: too small) and the one coin that pays; then, off the
      // publication's path, the keys of the next publication's change and decoy
      // (ChainAddresses.prepare): bounded by the recipients, not by the coins held.
      assert.ok(derived <= 2 + 2, `${derived} keys derived for one publication from ${COINS} coins`);
    } finally {
      await carol.stop().catch(() => undefined);
      await devnet.stop();
    }
  });
});

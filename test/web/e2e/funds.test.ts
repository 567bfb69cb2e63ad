/**
 * Funding and the node, with the real core in real Chromium: "Add funds" shows the receiving
 * address (the card's, where the faucet paid) as text and QR code, with the top-up link-out
 * on mainnet only; Settings names the node in use, whether it is synced and the last block
 * seen, and "use only my own node" takes the network's public nodes out of the list and puts
 * them back. Explorer links come from each network's configuration.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TOP_UP_URL } from '../../../src/web/app-api.ts';
import { NETWORKS } from '../../../src/web/engine/network.ts';
import { explorerTxUrl } from '../../../src/web/format.ts';
import { UI, addressOf, openSettings, shot, startRealApp, type RealApp, type User } from './real-app.ts';

describe('add funds and the node state in Chromium', { timeout: 600_000 }, () => {
  let app: RealApp;
  let fay: User;

  before(async () => {
    // The testnet-10 list names public nodes: no name resolves here, so none is ever reached.
    app = await startRealApp({ chromiumArgs: ['--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'] });
    fay = await app.newUser('Fay', 'fay-vault-password');
  });
  after(async () => {
    await app?.close();
  });

  const openBalance = async (): Promise<void> => {
    await fay.page.getByRole('link', { name: 'Delivery', exact: true }).first().click();
    await fay.page.getByRole('heading', { name: 'Add funds' }).waitFor({ timeout: UI });
  };

  it('shows the receiving address as text and QR code, and the faucet note on the local network', async () => {
    await openBalance();
    const address = fay.page.getByRole('textbox', { name: 'Receiving address' });
    await fay.page.locator('.add-funds svg.qr path').waitFor({ timeout: UI });
    assert.equal(await address.inputValue(), addressOf(fay));
    assert.equal(
      await fay.page.locator('.add-funds svg.qr').getAttribute('aria-label'),
      'QR code of your receiving address',
    );
    assert.equal(await fay.page.getByRole('link', { name: 'Buy Kaspa' }).count(), 0);
    await fay.page.getByText('a new identity gets test coins from its faucet').waitFor({ timeout: UI });
    await shot(fay.page, 'add-funds-local');
    assert.deepEqual(fay.problems, []);
  });

  it('names the node in use, synced, and the last block seen; no public nodes to leave out locally', async () => {
    await openSettings(fay);
    const line = fay.page.locator('ul.node-list li', { hasText: app.devnet.url });
    await line.filter({ hasText: 'in use, synced' }).waitFor({ timeout: UI });
    const last = fay.page.locator('.node-last');
    await last.filter({ hasText: /Last block seen: DAA score [\d,]+\.$/ }).waitFor({ timeout: UI });
    const first = Number((await last.textContent())?.replace(/\D/g, ''));
    // The block count moves on while the screen is open (10 blocks per second).
    await fay.page.waitForFunction(
      (before) => Number(document.querySelector('.node-last')?.textContent?.replace(/\D/g, '')) > before,
      first,
      { timeout: UI },
    );
    const own = fay.page.getByRole('switch', { name: 'Use only my own node' });
    assert.equal(await own.isChecked(), true);
    assert.equal(await own.isDisabled(), true);
    await shot(fay.page, 'settings-node-local');
  });

  it('leaves the public nodes out with "use only my own node", and puts them back', async () => {
    await openSettings(fay);
    await fay.page.getByLabel('Network').selectOption('testnet-10');
    const nodes = fay.page.getByLabel('Node addresses');
    const publicUrls = NETWORKS['testnet-10'].publicNodeUrls;
    await fay.page.waitForFunction(
      (url) =>
        (document.querySelector('textarea') as HTMLTextAreaElement | null)?.value.includes(url) ?? false,
      publicUrls[0] ?? '',
      { timeout: UI },
    );
    const own = fay.page.getByRole('switch', { name: 'Use only my own node' });
    await fay.page.waitForFunction(
      () => !(document.getElementById('set-own-node') as HTMLInputElement).disabled,
      null,
      {
        timeout: UI,
      },
    );
    assert.equal(await own.isChecked(), false);
    for (const url of publicUrls)
      await fay.page.locator('ul.node-list li', { hasText: url }).waitFor({ timeout: UI });
    await own.check();
    await fay.page.getByText('On: only the addresses below are used').waitFor({ timeout: UI });
    assert.deepEqual((await nodes.inputValue()).split('\n'), [NETWORKS['testnet-10'].defaultNodeUrl]);
    assert.equal(await fay.page.locator('ul.node-list li', { hasText: publicUrls[0] ?? '' }).count(), 0);
    await shot(fay.page, 'settings-node-own-only');
    await own.uncheck();
    await fay.page.getByText('Off: public nodes of this network').waitFor({ timeout: UI });
    assert.deepEqual((await nodes.inputValue()).split('\n'), [
      NETWORKS['testnet-10'].defaultNodeUrl,
      ...publicUrls,
    ]);
  });

  it('links out to top up on mainnet only, beside the address', async () => {
    await openSettings(fay);
    await fay.page.getByLabel('Network').selectOption('mainnet');
    await fay.page.waitForFunction(
      () =>
        (document.querySelector('textarea') as HTMLTextAreaElement | null)?.value.includes(':18110') ?? false,
      null,
      { timeout: UI },
    );
    await openBalance();
    const buy = fay.page.getByRole('link', { name: 'Buy Kaspa' });
    await buy.waitFor({ timeout: UI });
    assert.equal(await buy.getAttribute('href'), TOP_UP_URL);
    assert.equal(await buy.getAttribute('rel'), 'noopener noreferrer');
    const address = await fay.page.getByRole('textbox', { name: 'Receiving address' }).inputValue();
    assert.match(address, /^kaspa:[a-z0-9]+$/);
    assert.ok(!(TOP_UP_URL as string).includes(address), 'the link carries nothing about the user');
    await shot(fay.page, 'add-funds-mainnet');
    // Back to the local network for the rest of the profile's life (the mainnet node of this
    // machine's default port is not running: its failed connections are expected here).
    await openSettings(fay);
    await fay.page.getByLabel('Network').selectOption('local');
  });

  it('takes explorer links from the network configuration, none on the local network', () => {
    const tx = 'ab'.repeat(32);
    assert.equal(explorerTxUrl('mainnet', tx), `https://explorer.kaspa.org/txs/${tx}`);
    assert.equal(explorerTxUrl('testnet-10', tx), `https://explorer-tn10.kaspa.org/txs/${tx}`);
    assert.equal(explorerTxUrl('local', tx), undefined);
    assert.equal(explorerTxUrl('mainnet', 'not a tx id'), undefined);
    for (const n of Object.values(NETWORKS))
      if (n.explorerTxBase !== undefined) assert.match(n.explorerTxBase, /^https:\/\/[^/]+\/.*\/$/);
    assert.deepEqual(
      Object.entries(NETWORKS)
        .filter(([, n]) => n.topUpUrl !== undefined)
        .map(([id]) => id),
      ['mainnet'],
    );
  });
});

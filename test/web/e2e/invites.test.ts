/**
 * Invites in real Chromium with the real core: the invite on "My card" carries one one-time
 * pre-key and a first-contact address of its own (invite version 5), the same each time the
 * card is shown; an invite older than
 * 21 days is added after a plain warning, a fresh one without; a bare card link of the
 * previous format is refused in words. The short invite: My card shows it (QR version 6 or
 * lower) with the full link under it, its card published on chain; another profile pastes it,
 * the app looks it up and adds the contact, and the two chat; a short link found nowhere (never
 * published, or one character changed) is refused in words.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Address, AddressVersion } from '../../../src/kaspa/address.ts';
import { Identity } from '../../../src/core/identity/identity.ts';
import { ContactCard, Invite } from '../../../src/core/contact/card.ts';
import { ShortInvite } from '../../../src/core/contact/short-invite.ts';
import { PreKeyRing } from '../../../src/core/session/prekeys.ts';
import { LOCAL_FUND_PATH } from '../../../src/web/engine/network.ts';
import { qrVersion } from '../../../src/web/qr.ts';
import {
  SLOW,
  UI,
  addByLink,
  createIdentity,
  openChat,
  received,
  send,
  shot,
  startRealApp,
  type RealApp,
  type User,
} from './real-app.ts';

const DAY_S = 86_400;

/** The invite link of a new identity on the local network, issued `daysAgo` days ago. */
function inviteFrom(
  name: string,
  daysAgo: number,
  format: 'invite' | 'bare card' | 'short' = 'invite',
): string {
  const identity = Identity.generate();
  const ring = PreKeyRing.create(Date.now());
  const card = ContactCard.create(identity, {
    displayName: name,
    addresses: [new Address('kaspasim', AddressVersion.PubKey, identity.publicKey)],
    preKey: ring.current(),
    issuedAt: Math.floor(Date.now() / 1000) - daysAgo * DAY_S,
  });
  if (format === 'bare card') return card.toLink();
  const invite = new Invite(card, ring.mintOneTime(Date.now(), 1));
  return format === 'short' ? ShortInvite.create(invite).toLink() : invite.toLink();
}

describe('invites in Chromium with the real core', () => {
  let app: RealApp;
  let alice: User;

  before(async () => {
    app = await startRealApp();
    alice = await app.newUser('Alice', 'alice-vault-password');
  });

  after(async () => {
    await app?.close();
  });

  /** Pastes `link` into Add contact and continues to the preview. */
  async function preview(link: string): Promise<void> {
    const { page } = alice;
    await page.getByRole('link', { name: 'Add contact' }).first().click();
    await page.getByRole('textbox', { name: 'Invite link' }).fill(link);
    await page.getByRole('button', { name: 'Continue' }).click();
  }

  it('the invite on My card carries one one-time pre-key and its own address, the same while unclaimed', async () => {
    const code = (u: string): string => u.slice(u.indexOf('#/add/') + '#/add/'.length);
    const shown = Invite.fromLink(code(alice.invite));
    assert.equal(shown.oneTimeKeys.length, 1);
    // Its own first-contact address, not the card's (docs/protocol.md "Invite link").
    assert.equal(shown.firstContact?.prefix, 'kaspasim');
    assert.notEqual(shown.firstContact.toString(), shown.card.addresses[0]!.toString());
    // Its own first-contact address, not the card's (docs/protocol.md "Invite link").
    assert.equal(shown.firstContact?.prefix, 'kaspasim');
    assert.notEqual(shown.firstContact.toString(), shown.card.addresses[0]!.toString());
    const { page } = alice;
    await page.getByRole('link', { name: 'Add contact' }).first().click();
    await page.getByRole('link', { name: 'My card' }).first().click();
    await page.locator('svg.qr path').waitFor({ timeout: UI });
    const again = await page.getByRole('textbox', { name: 'Invite link' }).inputValue();
    assert.equal(again, alice.invite, 'showing the card again mints no new key');
  });

  it('an invite 30 days old is added after a plain warning; the user may proceed', async () => {
    await preview(inviteFrom('Olga', 30));
    const { page } = alice;
    const warning = page.getByRole('note');
    await warning.waitFor({ timeout: UI });
    assert.equal(
      await warning.textContent(),
      'This invite is 30 days old; ask Olga for a fresh one if the first message is not answered.',
    );
    await shot(page, 'invites-01-old-invite');
    await page.getByRole('button', { name: 'Add contact' }).click();
    await page.locator('.conv-name', { hasText: 'Olga' }).waitFor({ timeout: UI });
  });

  it('a fresh invite shows no warning; a bare card link of the previous format is refused', async () => {
    await preview(inviteFrom('Fred', 2));
    const { page } = alice;
    await page.getByRole('button', { name: 'Add contact' }).waitFor({ timeout: UI });
    assert.equal(await page.getByRole('note').count(), 0);
    await preview(inviteFrom('Bert', 0, 'bare card'));
    await page
      .getByText('This invite was made by another version of p2pComm. Ask for a new invite link.')
      .waitFor({ timeout: UI });
    assert.deepEqual(alice.problems, []);
  });

  it('Alice shows the short invite (QR version 6 or lower), Bob pastes it, and both chat', async () => {
    const { page } = alice;
    await page.getByRole('link', { name: 'Add contact' }).first().click();
    await page.getByRole('link', { name: 'My card' }).first().click();
    const shortBox = page.getByRole('textbox', { name: 'Short link' });
    // Nothing is published until Alice asks for the short code.
    assert.equal(await shortBox.isVisible(), false, 'no short link before it is asked for');
    await page.getByRole('button', { name: 'Make a short QR code' }).click();
    await page.getByText('The QR code holds this short link').waitFor({ timeout: SLOW });
    const shortLink = await shortBox.inputValue();
    const code = shortLink.slice(shortLink.indexOf('#/add/') + '#/add/'.length);
    assert.equal(code.length, 36, 'the short code');
    assert.ok(qrVersion(shortLink) <= 6, `QR version ${qrVersion(shortLink)}`);
    await page.locator('svg.qr[aria-label="QR code of your short invite link"]').waitFor({ timeout: UI });
    // The full link stays under the short one.
    assert.equal(await page.getByRole('textbox', { name: 'Invite link' }).inputValue(), alice.invite);
    await shot(page, 'invites-02-short-invite');
    const bob = await app.newUser('Bob', 'bob-vault-password');
    await bob.page.getByRole('link', { name: 'Add contact' }).first().click();
    await bob.page.getByRole('textbox', { name: 'Invite link' }).fill(shortLink);
    await bob.page.getByRole('button', { name: 'Continue' }).click();
    await bob.page.getByRole('heading', { name: 'Add Alice?' }).waitFor({ timeout: SLOW });
    await bob.page.getByRole('button', { name: 'Add contact' }).click();
    await bob.page.locator('.conv-name', { hasText: 'Alice' }).waitFor({ timeout: UI });
    await addByLink(alice, bob);
    await openChat(bob, 'Alice');
    await send(bob, 'found you by the short link');
    await openChat(alice, 'Bob');
    await received(alice, 'found you by the short link');
    await send(alice, 'and I read you');
    await received(bob, 'and I read you');
    assert.deepEqual(bob.problems, []);
    assert.deepEqual(alice.problems, []);
  });

  it('"Make a short QR code" with no funds says so in words and keeps the full link and its QR code', async () => {
    // Nora's identity gets nothing from the faucet: its request is answered, and pays nothing.
    const nora = await app.newUser('Nora', 'nora-vault-password', { create: false });
    await nora.context.route(
      (url) => url.pathname === LOCAL_FUND_PATH,
      (route) => route.fulfill({ status: 204 }),
    );
    await createIdentity(nora);
    const { page } = nora;
    // The wallet has been read (the chain adapter runs): the empty balance is flagged.
    await page.getByRole('link', { name: 'Secure delivery low' }).waitFor({ timeout: SLOW });
    await page.getByRole('button', { name: 'Make a short QR code' }).click();
    await page
      .getByText(
        'The short link needs a small payment on the network, and this wallet has no funds for it. Send the full invite link instead.',
      )
      .waitFor({ timeout: SLOW });
    assert.equal(await page.getByRole('textbox', { name: 'Short link' }).isVisible(), false, 'no short link');
    assert.equal(await page.getByRole('textbox', { name: 'Invite link' }).inputValue(), nora.invite);
    await page.locator('svg.qr[aria-label="QR code of your invite link"]').waitFor({ timeout: UI });
    await shot(page, 'invites-03-short-invite-no-funds');
    // Nothing broken: the full link still adds Nora, and the two chat.
    await addByLink(alice, nora);
    await addByLink(nora, alice);
    await send(alice, 'your full link works');
    await received(nora, 'your full link works');
    assert.deepEqual(nora.problems, []);
    await nora.context.close();
  });

  it('a tampered short link is refused clearly: not found, nothing to add', async () => {
    const short = inviteFrom('Sam', 0, 'short');
    assert.ok(short.length < 50, 'a short link');
    // Published nowhere, like a short link with a changed secret.
    await preview(short);
    const { page } = alice;
    await page
      .getByText('This short invite was not found on the network. Ask for the full invite link.')
      .waitFor({ timeout: SLOW });
    assert.equal(await page.getByRole('button', { name: 'Add contact' }).count(), 0, 'nothing to add');
    // One character of a published short link changed: its secret, so its locator, differ.
    await page.getByRole('link', { name: 'My card' }).first().click();
    await page.getByRole('button', { name: 'Make a short QR code' }).click();
    await page.getByText('The QR code holds this short link').waitFor({ timeout: SLOW });
    const shortLink = await page.getByRole('textbox', { name: 'Short link' }).inputValue();
    const at = shortLink.indexOf('#/add/') + '#/add/'.length + 5;
    const tampered = shortLink.slice(0, at) + (shortLink[at] === 'A' ? 'B' : 'A') + shortLink.slice(at + 1);
    await preview(tampered);
    await page
      .getByText('This short invite was not found on the network. Ask for the full invite link.')
      .waitFor({ timeout: SLOW });
    assert.equal(await page.getByRole('button', { name: 'Add contact' }).count(), 0, 'nothing to add');
    assert.deepEqual(alice.problems, []);
  });
});

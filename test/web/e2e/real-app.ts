/**
 * The real app in real Chromium for end-to-end tests: the built app served beside the local
 * faucet on one origin (src/web/engine/local-origin.ts, with its CSP), pointed at a local
 * network started in this process with `?node=`, and people as independent browser contexts
 * (each its own IndexedDB). Every wait is on DOM state with a generous bound (a broken build
 * fails, a slow machine does not); nothing asserts a duration.
 */
import { isBatch } from '../../../src/core/envelope/batch.ts';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildWeb } from '../../../scripts/build-web.ts';
import type { WebServer } from '../../../src/web/serve.ts';
import { ContactCard, Invite } from '../../../src/core/contact/card.ts';
import { startDevnet, type DevnetHandle } from '../../../src/devnet/index.ts';
import type { MempoolEntry } from '../../../src/devnet/mempool.ts';
import { scriptPublicKeyToAddress } from '../../../src/kaspa/address.ts';
import { serveAppWithLocalFaucet } from '../../../src/web/engine/local-origin.ts';
import { launchChromium } from '../../harness/browser.ts';
import { SCREENSHOT_DIR } from '../web-harness.ts';

/** Bound on waits that involve the chain path and WebRTC set-up (offer and answer on chain). */
export const SLOW = 180_000;
/** Bound on waits for local UI work (vault KDF, IndexedDB, rendering). */
export const UI = 60_000;

/** One person: a browser context (own storage) and the page currently open in it. */
export interface User {
  readonly name: string;
  readonly password: string;
  readonly context: BrowserContext;
  page: Page;
  /** The invite link shown on "My card" once the identity exists. */
  invite: string;
  /** Everything the pages of this user reported that a clean run must not contain. */
  readonly problems: string[];
}

/** A running app, its local network and browser. */
export interface RealApp {
  readonly devnet: DevnetHandle;
  readonly browser: Browser;
  /** The page address with `?node=` and no service worker (each reload runs the served build). */
  readonly appUrl: string;
  /**
   * A new person in a fresh context, with the app open: `create` (default true) also makes
   * the identity; `browser` opens the context in another browser (e.g. one with a fake camera).
   */
  newUser(
    name: string,
    password: string,
    options?: { readonly create?: boolean; readonly browser?: Browser },
  ): Promise<User>;
  /** Opens a new page of `u` on the app (the old one stays open unless closed). */
  openPage(u: User): Promise<Page>;
  close(): Promise<void>;
}

/** A simnet node the app is pointed at instead of a local network started here. */
export interface ExternalNode {
  /** Its wRPC JSON address (`ws://...`). */
  readonly url: string;
  /** Pays `sompi` to a `kaspasim:` address for the app's faucet; resolves with the tx id. */
  fund(address: string, sompi: bigint): Promise<string>;
}

/** Options of `startRealApp`. */
export interface RealAppOptions {
  /** Chromium flags beside those of `launchChromium`. */
  readonly chromiumArgs?: readonly string[];
  /**
   * Point the app at this node (a `kaspad --simnet`, test/oracle/kaspad-web.ts) rather than at
   * a local network; `RealApp.devnet` then throws, as there is none to look into.
   */
  readonly node?: ExternalNode;
}

/** Starts a local network (or uses `options.node`), builds and serves the app, launches Chromium. */
export async function startRealApp(options: RealAppOptions = {}): Promise<RealApp> {
  const local = options.node === undefined ? await startDevnet({ port: 0, blocksPerSecond: 10 }) : undefined;
  const node: ExternalNode = options.node ?? {
    url: local!.url,
    fund: (a, sompi) => Promise.resolve(local!.fund(a, sompi)),
  };
  const outDir = await mkdtemp(join(tmpdir(), 'p2pcomm-e2e-'));
  let web: WebServer | undefined;
  let browser: Browser | undefined;
  try {
    await buildWeb({ outDir });
    web = await serveAppWithLocalFaucet({ root: outDir, port: 0, fund: (a, sompi) => node.fund(a, sompi) });
    // Host candidates as IP addresses rather than mDNS names, as in the transport tests.
    browser = await launchChromium([
      '--disable-features=WebRtcHideLocalIpsWithMdns',
      ...(options.chromiumArgs ?? []),
    ]);
    await mkdir(SCREENSHOT_DIR, { recursive: true });
  } catch (e) {
    await browser?.close();
    await web?.close();
    await local?.stop();
    await rm(outDir, { recursive: true, force: true });
    throw e;
  }
  const appUrl = `${web.url}?sw=0&node=${encodeURIComponent(node.url)}`;
  const b = browser;
  const server = web;

  async function openPage(u: User): Promise<Page> {
    const page = await u.context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') u.problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => u.problems.push(`page error: ${e.message}`));
    page.on('dialog', (d) => {
      u.problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    await page.goto(appUrl);
    u.page = page;
    return page;
  }

  return {
    get devnet(): DevnetHandle {
      if (local === undefined) throw new Error('this app runs against an external node, not a local network');
      return local;
    },
    browser: b,
    appUrl,
    openPage,
    async newUser(name, password, opts = {}) {
      const context = await (opts.browser ?? b).newContext({ viewport: { width: 1200, height: 800 } });
      const u: User = {
        name,
        password,
        context,
        page: undefined as unknown as Page,
        invite: '',
        problems: [],
      };
      await openPage(u);
      if (opts.create !== false) await createIdentity(u);
      return u;
    },
    async close() {
      await b.close();
      await server.close();
      await local?.stop();
      await rm(outDir, { recursive: true, force: true });
    },
  };
}

/** Fills in and sends the create-identity form for `u`; ends on the recovery-key screen. */
export async function submitIdentityForm(u: User): Promise<void> {
  const { page } = u;
  await page.getByRole('heading', { name: 'Create your identity' }).waitFor({ timeout: UI });
  await page.getByLabel('Your name').fill(u.name);
  await page.getByLabel('Password', { exact: true }).fill(u.password);
  await page.getByLabel('Repeat password').fill(u.password);
  await page.getByRole('button', { name: 'Create identity' }).click();
  await page.getByRole('heading', { name: 'Your recovery key' }).waitFor({ timeout: UI });
}

/** Creates `u`'s identity through the screens and keeps the invite link from "My card". */
export async function createIdentity(u: User): Promise<void> {
  const { page } = u;
  await submitIdentityForm(u);
  await page.getByLabel('I have saved my recovery key').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'My card' }).waitFor({ timeout: UI });
  // The link, its QR code and the fingerprint are filled in together once the card is made.
  await page.locator('svg.qr path').waitFor({ timeout: UI });
  u.invite = await page.getByRole('textbox', { name: 'Invite link' }).inputValue();
  assert.match(u.invite, /#\/add\/[A-Za-z0-9_-]+$/);
}

/**
 * Waits until "My card" of `u` shows an invite other than `u.invite` and keeps it there. An
 * invite carries one one-time pre-key (docs/protocol.md "Invite"), claimed by the first contact
 * that uses it; the app then shows a new one. A second person using the claimed link is
 * refused (`SessionError ONE_TIME_KEY_USED`, X3DH §3.4 deletes the key), so each person is
 * given the invite shown after the previous one wrote.
 */
export async function nextInvite(u: User): Promise<string> {
  const { page } = u;
  const deadline = Date.now() + SLOW;
  for (;;) {
    // Each visit renders the card again, so a claimed key shows as a new link.
    await page.getByRole('link', { name: 'Add contact' }).first().click();
    await page.getByRole('link', { name: 'My card' }).first().click();
    await page.getByRole('heading', { name: 'My card' }).waitFor({ timeout: UI });
    await page.locator('svg.qr path').waitFor({ timeout: UI });
    const shown = await page.getByRole('textbox', { name: 'Invite link' }).inputValue();
    if (shown !== u.invite) {
      u.invite = shown;
      return shown;
    }
    if (Date.now() > deadline) throw new Error(`${u.name}'s invite was not claimed within ${SLOW} ms`);
    await page.waitForTimeout(500);
  }
}

/** The `kaspasim:` address on `u`'s card (where contacts' notifications to `u` go). */
export function addressOf(u: User): string {
  const code = u.invite.slice(u.invite.indexOf('#/add/') + '#/add/'.length);
  const address = ContactCard.fromLink(code).addresses[0];
  assert.ok(address !== undefined, `${u.name}'s card has an address`);
  return address.toString();
}

/**
 * The address a first contact through `u`'s current invite pays: the invite's own address
 * (invite v5, docs/protocol.md "Invite link"), or the card's where the invite names none.
 */
export function firstContactAddressOf(u: User): string {
  const invite = Invite.fromLink(u.invite.slice(u.invite.indexOf('#/add/') + '#/add/'.length));
  const address = invite.firstContact ?? invite.card.addresses[0];
  assert.ok(address !== undefined, `${u.name}'s invite names an address`);
  return address.toString();
}

/**
 * `u` adds `other` by pasting the invite link and confirming; the conversation opens.
 * `screenshot` names a screenshot of the confirmation step.
 */
export async function addByLink(u: User, other: User, screenshot?: string): Promise<void> {
  const { page } = u;
  await page.getByRole('link', { name: 'Add contact' }).first().click();
  await page.getByRole('textbox', { name: 'Invite link' }).fill(other.invite);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: `Add ${other.name}?` }).waitFor({ timeout: UI });
  if (screenshot !== undefined) await shot(page, screenshot);
  await page.getByRole('button', { name: 'Add contact' }).click();
  await page.locator('.conv-name', { hasText: other.name }).waitFor({ timeout: UI });
}

/**
 * `hub` and each of `others` add each other by link, each of `others` first. An invite's
 * one-time pre-key goes to the first person who uses it, so after each contact `hub` shows its
 * next invite for the one after (a second person using the first would be refused).
 */
export async function addEachByLink(hub: User, others: readonly User[]): Promise<void> {
  for (const [i, other] of others.entries()) {
    if (i > 0) await nextInvite(hub);
    await addByLink(other, hub);
    await addByLink(hub, other);
  }
}

/** Both add each other and wait until the direct link is up on both sides. */
export async function connect(a: User, b: User): Promise<void> {
  await addByLink(b, a);
  await addByLink(a, b);
  for (const u of [a, b]) await u.page.locator('.conn.connected').waitFor({ timeout: SLOW });
}

/** Waits for the lock screen and unlocks. */
export async function unlock(u: User, password = u.password): Promise<void> {
  const { page } = u;
  await page.getByRole('heading', { name: /Welcome back/ }).waitFor({ timeout: UI });
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Unlock' }).click();
}

/** Opens the conversation with `withName` from the list. */
export async function openChat(u: User, withName: string): Promise<void> {
  await u.page.locator('a.chat-row', { hasText: withName }).click({ timeout: SLOW });
  await u.page.locator('.conv-name', { hasText: withName }).waitFor({ timeout: UI });
}

/** Sends `text` in the open conversation and waits until it is listed. */
/** Accepts the message request of `fromName` (someone who wrote before being added). */
export async function acceptRequest(u: User, fromName: string): Promise<void> {
  await u.page.locator('a.requests-entry').click({ timeout: SLOW });
  await u.page.locator('a.request-row', { hasText: fromName }).click({ timeout: UI });
  await u.page.getByRole('button', { name: 'Accept' }).click({ timeout: UI });
  await u.page.locator('.conv-name', { hasText: fromName }).waitFor({ timeout: UI });
}

/**
 * Collects every transaction entering the mempool from now on that carries a batch (a chain
 * message or receipt, whoever it pays: with chain format 2 most notifications go to stealth
 * addresses no test knows in advance); `stop` ends the watch.
 */
export function batchesPublished(app: RealApp): { readonly entries: MempoolEntry[]; stop(): void } {
  const entries: MempoolEntry[] = [];
  const stop = app.devnet.chain.listen({
    mempoolChanged(added) {
      for (const e of added) if (isBatch(e.tx.payload)) entries.push(e);
    },
  });
  return { entries, stop };
}

/**
 * Collects every transaction entering the mempool from now on that pays `u` (a chain
 * message or a notification for them); `stop` ends the watch.
 */
export function paymentsTo(app: RealApp, u: User): { readonly entries: MempoolEntry[]; stop(): void } {
  const address = addressOf(u);
  const entries: MempoolEntry[] = [];
  const stop = app.devnet.chain.listen({
    mempoolChanged(added) {
      for (const e of added)
        if (
          e.tx.outputs.some(
            (o) => scriptPublicKeyToAddress(o.scriptPublicKey, 'kaspasim')?.toString() === address,
          )
        )
          entries.push(e);
    },
  });
  return { entries, stop };
}

export async function send(u: User, text: string): Promise<void> {
  await u.page.getByLabel('Message', { exact: true }).fill(text);
  await u.page.getByRole('button', { name: 'Send' }).click();
  await u.page.locator('li.msg.out .text').filter({ hasText: text }).first().waitFor({ timeout: UI });
}

/** Waits until each of `texts` is listed incoming on `page` with the "verified delivery" badge. */
export async function verifiedIn(page: Page, texts: readonly string[]): Promise<void> {
  for (const text of texts) {
    await page
      .locator('li.msg.in', { hasText: text })
      .locator('.badge', { hasText: 'verified delivery' })
      .waitFor({ timeout: SLOW });
  }
}

/** Waits until the open conversation of `u` lists an incoming message holding `text`. */
export async function received(u: User, text: string): Promise<void> {
  await u.page.locator('li.msg.in .text', { hasText: text }).waitFor({ timeout: SLOW });
}

/** Opens Settings from the navigation. */
export async function openSettings(u: User): Promise<void> {
  await u.page.getByRole('link', { name: 'Settings' }).first().click();
  await u.page.getByRole('heading', { name: 'Settings' }).waitFor({ timeout: UI });
}

/** Saves the settings form and waits for "Saved". */
export async function saveSettings(u: User): Promise<void> {
  await u.page.getByRole('button', { name: 'Save settings' }).click();
  await u.page.getByText('Saved', { exact: true }).waitFor({ timeout: UI });
}

/** Keeps a screenshot beside those of chat.test.ts. */
export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOT_DIR, `e2e-${name}.png`) });
}

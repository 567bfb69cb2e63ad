/**
 * Voice notes end to end in real Chromium (issue 14): the real app against a local network,
 * Alice and Bob as two browser contexts over a direct WebRTC link. Alice's browser has
 * Chromium's fake microphone (a tone with periodic beeps) and grants it without a prompt
 * (`--use-fake-device-for-media-stream --use-fake-ui-for-media-stream`); Bob's has the fake
 * device but no such grant, so his browser refuses the microphone as a user who said no.
 *
 * Alice records about 3 s, sees the running length and a level that moves, and sends; Bob's
 * side shows the note with its length and waveform and plays it (the audio element's position
 * advances), the bytes he plays being the bytes Alice recorded (BLAKE3 of both). A cancelled
 * recording sends nothing; Bob's refused microphone shows the reason and changes nothing.
 * Every wait is on DOM state with a generous bound; nothing asserts a duration.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { blake3 } from '@noble/hashes/blake3.js';
import { bytesToHex } from '../../../src/util/bytes.ts';
import { launchChromium } from '../../harness/browser.ts';
import { UI, connect, shot, startRealApp, type RealApp, type User } from './real-app.ts';
import { delayIdb } from './slow-idb.ts';

const FAKE_DEVICE = '--use-fake-device-for-media-stream';
const FAKE_UI = '--use-fake-ui-for-media-stream';
const SLOW = 60_000;

type BlobPage = typeof globalThis & { __voiceBlobs?: Map<string, Blob> };

/**
 * Keeps every Blob the page turns into an object URL, so the test can read what an audio
 * element plays: the app's CSP has no `blob:` in connect-src, so the page cannot fetch one.
 */
async function keepBlobs(page: Page): Promise<void> {
  await page.evaluate(() => {
    const g = globalThis as BlobPage;
    if (g.__voiceBlobs !== undefined) return;
    const blobs = new Map<string, Blob>();
    g.__voiceBlobs = blobs;
    const create = URL.createObjectURL.bind(URL);
    URL.createObjectURL = (o: Blob | MediaSource): string => {
      const url = create(o);
      if (o instanceof Blob) blobs.set(url, o);
      return url;
    };
  });
}

/**
 * While `on`, the page answers reads of the whole attachment list (`attachments.meta` bulk
 * reads, what listing a conversation's attachments does) 5 s late, as a slow device with many
 * files would: a view read while a note is being sent then lands after the note's receipt.
 */
async function slowAttachmentLists(page: Page, on: boolean): Promise<void> {
  for (const method of ['getAll', 'getAllKeys'] as const)
    await delayIdb(page, method, 'attachments.meta', on ? 5_000 : 0);
}

/** The bytes the voice player of `row` plays, from the Blob behind its object URL. */
async function playedBytes(page: Page, row: string): Promise<Uint8Array> {
  const audio = page.locator(row).locator('audio.voice-audio');
  await page.waitForFunction(
    (sel) => (document.querySelector(sel) as HTMLAudioElement | null)?.src.startsWith('blob:') === true,
    `${row} audio.voice-audio`,
    { timeout: UI },
  );
  const bytes = await audio.evaluate(async (a: HTMLAudioElement) => {
    const blob = (globalThis as BlobPage).__voiceBlobs?.get(a.src);
    if (blob === undefined) throw new Error('the audio does not come from a kept Blob');
    return Array.from(new Uint8Array(await blob.arrayBuffer()));
  });
  return Uint8Array.from(bytes);
}

describe('voice notes in Chromium with the fake microphone', () => {
  let app: RealApp;
  let refusing: Browser;
  let alice: User;
  let bob: User;

  before(async () => {
    app = await startRealApp({ chromiumArgs: [FAKE_DEVICE, FAKE_UI] });
    refusing = await launchChromium(['--disable-features=WebRtcHideLocalIpsWithMdns', FAKE_DEVICE]);
    alice = await app.newUser('Alice', 'alice-vault-password');
    bob = await app.newUser('Bob', 'bob-vault-password', { browser: refusing });
    await connect(alice, bob);
    for (const u of [alice, bob]) await keepBlobs(u.page);
  });

  after(async () => {
    await refusing?.close();
    await app?.close();
  });

  it('shows the longest note before recording', async () => {
    const mic = alice.page.getByRole('button', { name: /^Record a voice note/ });
    await mic.waitFor({ timeout: UI });
    assert.equal(await mic.getAttribute('aria-label'), 'Record a voice note, up to 10 minutes');
  });

  it('a cancelled recording sends nothing', async () => {
    const { page } = alice;
    await page.getByRole('button', { name: /^Record a voice note/ }).click();
    const panel = page.getByRole('group', { name: 'Voice note recording' });
    await panel.waitFor({ timeout: UI });
    await page.locator('.voice-time', { hasText: /^0:01 \// }).waitFor({ timeout: UI });
    await panel.getByRole('button', { name: 'Cancel' }).click();
    await panel.waitFor({ state: 'hidden', timeout: UI });
    assert.equal(await page.locator('.attachment').count(), 0, 'nothing listed');
    assert.equal(await page.locator('.voice-error').textContent(), '', 'no error either');
  });

  it('Alice records about 3 s with a moving level and sends; Bob plays the same bytes', async () => {
    const { page } = alice;
    await page.getByRole('button', { name: /^Record a voice note/ }).click();
    const panel = page.getByRole('group', { name: 'Voice note recording' });
    await panel.waitFor({ timeout: UI });
    // The meter follows the fake microphone's beeps: read in the page until the running
    // length reaches 0:03, it shows several levels, some loud.
    const levels = new Set(
      await page.getByRole('meter', { name: 'Microphone level' }).evaluate(
        (m: HTMLMeterElement) =>
          new Promise<number[]>((resolve) => {
            const seen: number[] = [];
            const time = document.querySelector('.voice-time');
            const t = setInterval(() => {
              seen.push(m.value);
              if (/^0:03 \//.test(time?.textContent ?? '')) {
                clearInterval(t);
                resolve(seen);
              }
            }, 10);
          }),
      ),
    );
    assert.ok(levels.size >= 3, `the level moved (${[...levels].join(', ')})`);
    assert.ok(Math.max(...levels) > 0.05, 'the level rose above silence');
    assert.match((await page.locator('.voice-time').textContent()) ?? '', /^0:03 \/ 10:00$/);
    await shot(page, 'voice-recorder');
    await slowAttachmentLists(page, true);
    await panel.getByRole('button', { name: 'Send voice note' }).click();
    await panel.waitFor({ state: 'hidden', timeout: UI });

    const mine = '.attachment.out';
    await page
      .locator(mine)
      .locator('.voice-player')
      .waitFor({ timeout: SLOW })
      .catch(async (e: unknown) => {
        const rows = async (u: User): Promise<string> =>
          (await u.page.locator('.attachments-area').textContent()) ?? '';
        throw new Error(`not delivered; Alice: ${await rows(alice)} / Bob: ${await rows(bob)}`, { cause: e });
      });
    const name = (await page.locator(mine).locator('.attach-name').textContent()) ?? '';
    // At least the 3 s seen on the timer (more on a slow machine: it runs until Send).
    assert.match(name, /^Voice note · 0:(0[3-9]|[1-5]\d) · \d+ KB$/);

    const theirs = '.attachment.in';
    const row = bob.page.locator(theirs);
    await row.locator('.voice-player').waitFor({ timeout: SLOW });
    await slowAttachmentLists(page, false);
    assert.equal(await row.locator('.attach-name').textContent(), name, 'the same length and size');
    assert.equal(await row.locator('.voice-bar').count(), 64, 'the waveform has 64 bars');
    const heights = await row
      .locator('.voice-bar')
      .evaluateAll((bars) => bars.map((b) => (b as HTMLElement).style.height));
    assert.ok(new Set(heights).size > 1, 'the waveform is not flat');

    // Bob's verified copy is Alice's receipt: her own note leaves "transferring" (no progress
    // bar, no Cancel) and its message shows it delivered.
    const own = page.locator('li.msg.out', { has: page.locator('.voice-player') });
    await own
      .locator('.ticks.delivered, .ticks.read')
      .waitFor({ timeout: SLOW })
      .catch(async (e: unknown) => {
        throw new Error(`Alice's note not delivered: ${(await own.textContent()) ?? ''}`, { cause: e });
      });
    for (const part of ['progress', '.attach-cancel'])
      await own
        .locator(part)
        .waitFor({ state: 'detached', timeout: UI })
        .catch(async (e: unknown) => {
          throw new Error(`Alice's delivered note still shows ${part}: ${(await own.textContent()) ?? ''}`, {
            cause: e,
          });
        });

    const sent = await playedBytes(page, mine);
    const got = await playedBytes(bob.page, theirs);
    assert.ok(got.length > 1000, `${got.length} bytes of audio`);
    assert.equal(bytesToHex(blake3(got)), bytesToHex(blake3(sent)), 'BLAKE3 of the bytes Bob plays');

    await row.getByRole('button', { name: 'Play voice note' }).click();
    await row.getByRole('button', { name: 'Pause voice note' }).waitFor({ timeout: UI });
    await bob.page.waitForFunction(
      (sel) => ((document.querySelector(sel) as HTMLAudioElement | null)?.currentTime ?? 0) > 0.5,
      `${theirs} audio.voice-audio`,
      { timeout: UI },
    );
    await row.locator('.voice-pos', { hasText: /^0:0[1-9] \/ 0:\d\d$/ }).waitFor({ timeout: UI });
    assert.ok((await row.locator('.voice-bar.played').count()) > 0, 'the played part is lit');
    await shot(bob.page, 'voice-player');

    // The seek bar moves playback: back to the start.
    await row.getByRole('button', { name: 'Pause voice note' }).click();
    await row.getByRole('slider', { name: 'Position in the voice note' }).fill('0');
    await bob.page.waitForFunction(
      (sel) => ((document.querySelector(sel) as HTMLAudioElement | null)?.currentTime ?? 1) < 0.2,
      `${theirs} audio.voice-audio`,
      { timeout: UI },
    );
    assert.equal(await page.locator('.attachment').count(), 1, 'one note, the cancelled one never went');
    assert.equal(await bob.page.locator('.attachment').count(), 1);
    for (const u of [alice, bob]) assert.deepEqual(u.problems, []);
  });

  it('a refused microphone shows why and changes nothing', async () => {
    const { page } = bob;
    const before = await page.locator('li.msg').count();
    await page.getByRole('button', { name: /^Record a voice note/ }).click();
    await page.locator('.voice-error', { hasText: 'Microphone access was refused' }).waitFor({ timeout: UI });
    assert.equal(await page.getByRole('group', { name: 'Voice note recording' }).isVisible(), false);
    assert.equal(await page.locator('li.msg').count(), before, 'the conversation is unchanged');
    assert.equal(await alice.page.locator('.attachment').count(), 1, 'nothing reached Alice');
    await shot(page, 'voice-refused');
  });
});

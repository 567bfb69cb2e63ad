/**
 * Attachments in real Chromium. Against the fake engine (issue 14 item 3): a picked image
 * shows progress, then a thumbnail that opens full size; another file shows name, size and
 * type with a Save button; an empty file is refused in words and nothing else changes.
 * Between two people on the real app and the local network: an attachment is a message of
 * the conversation (ticks, proof, kept over a reload), by the direct link and, with the
 * recipient offline, by chain after its cost is shown.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFile } from 'node:fs/promises';
import type { Locator } from 'playwright-core';
import { blake3 } from '@noble/hashes/blake3.js';
import { bytesToHex } from '../../../src/util/bytes.ts';
import { assertClean, startWebHarness, type WebHarness } from '../web-harness.ts';
import {
  SLOW,
  UI,
  batchesPublished,
  connect,
  openChat,
  received,
  send,
  shot,
  startRealApp,
  unlock,
  type RealApp,
  type User,
} from './real-app.ts';
import { delayIdb } from './slow-idb.ts';

/** A 1x1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

describe('attachments in Chromium (fake engine)', () => {
  let web: WebHarness;
  before(async () => {
    web = await startWebHarness();
  });
  after(async () => {
    await web.close();
  });

  it('sends an image and a file from the attach button; refuses an empty file', async () => {
    const p = await web.open('?demo=1');
    const { page } = p;
    await page.locator('a.chat-row', { hasText: 'Grace Hopper' }).click();
    const attach = page.locator('button.attach');
    await attach.waitFor();
    assert.equal(await attach.getAttribute('aria-label'), 'Attach a file, up to 100.0 MB');
    const picker = page.locator('input.attach-input');

    await picker.setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: PNG });
    const image = page.locator('li.attachment.out', { hasText: 'dot.png' });
    await image.locator('img.attach-thumb').waitFor();
    assert.ok(
      await image.locator('img.attach-thumb').evaluate((img) => (img as HTMLImageElement).naturalWidth === 1),
      'the thumbnail shows the verified image',
    );
    assert.equal(await image.locator('a.attach-open').getAttribute('target'), '_blank');

    await picker.setInputFiles({
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.alloc(40_000, 0x61),
    });
    const file = page.locator('li.attachment.out', { hasText: 'notes.txt' });
    await file.getByRole('button', { name: 'Save' }).waitFor();
    assert.match(
      (await file.locator('.attach-name').textContent()) ?? '',
      /notes\.txt · 39 KB · text\/plain/,
    );

    const messagesBefore = await page.locator('li.msg').count();
    await picker.setInputFiles({ name: 'empty.txt', mimeType: 'text/plain', buffer: Buffer.alloc(0) });
    await page.locator('.attach-error', { hasText: 'empty.txt was not sent' }).waitFor();
    assert.equal(await page.locator('li.attachment').count(), 2, 'nothing shown for the refused file');
    assert.equal(await page.locator('li.msg').count(), messagesBefore, 'the conversation is unchanged');
    await web.screenshot(page, 'attachments-sent');
    assertClean(p);
  });

  it('to an offline contact a file waits by default; its cost is shown before "Send now" sends it the paid way', async () => {
    const p = await web.open('?demo=1');
    const { page } = p;
    await page.locator('a.chat-row', { hasText: 'Linus' }).click();
    const picker = page.locator('input.attach-input');
    await picker.waitFor({ state: 'attached' });

    await picker.setInputFiles({
      name: 'later.txt',
      mimeType: 'text/plain',
      buffer: Buffer.alloc(30_000, 0x62),
    });
    const later = page.locator('li.attachment.out', { hasText: 'later.txt' });
    await later.locator('.attach-wait', { hasText: 'Waiting until your contact is online.' }).waitFor();
    await later.getByRole('button', { name: 'Wait until online' }).click();
    await later.getByRole('button', { name: 'Send now' }).waitFor({ state: 'detached' });
    assert.equal(await later.locator('.attach-wait').count(), 1, 'still waiting, nothing paid');

    await picker.setInputFiles({
      name: 'now.txt',
      mimeType: 'text/plain',
      buffer: Buffer.alloc(30_000, 0x63),
    });
    const now = page.locator('li.attachment.out', { hasText: 'now.txt' });
    const cost = now.locator('.attach-cost', { hasText: /uses about \d+ of your secure messages/ });
    await cost.waitFor();
    assert.match(
      (await cost.textContent()) ?? '',
      /^Sending this while your contact is offline uses about \d+ of your secure messages \(\d+ left\)\.$/,
    );
    await web.screenshot(page, 'attachments-offline-choice');
    await now.getByRole('button', { name: 'Send now', disabled: false }).click();
    await now.getByRole('button', { name: 'Save' }).waitFor();
    assert.equal(
      await later.getByRole('button', { name: 'Save' }).count(),
      0,
      'the waiting file still waits',
    );
    assertClean(p);
  });
});

/** Bytes that differ everywhere (a corrupt or shifted byte shows), with a PDF header. */
function pdfLike(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 8)) & 0xff;
  b.write('%PDF-1.7\n', 0, 'latin1');
  return b;
}

describe('attachments between two people in Chromium (real app, local network)', () => {
  let app: RealApp;
  let alice: User;
  let bob: User;
  const picker = (u: User): Locator => u.page.locator('input.attach-input');
  /** The bubble of the attachment named `name`, in `dir` ('out' or 'in'). */
  const bubble = (u: User, dir: 'in' | 'out', name: string): Locator =>
    u.page.locator(`li.msg.${dir}`, { has: u.page.locator('.attach-name', { hasText: name }) });

  before(async () => {
    app = await startRealApp();
    alice = await app.newUser('Alice', 'alice password 1');
    bob = await app.newUser('Bob', 'bob password 1');
    await connect(alice, bob);
  });
  after(async () => {
    await app?.close();
  });

  it('direct: an image and a PDF are messages with ticks; the image opens full size, the PDF saves with its bytes; both survive a reload on both sides', async () => {
    const { entries, stop } = batchesPublished(app);
    const pdf = pdfLike(300_000);
    try {
      await picker(alice).setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: PNG });
      await picker(alice).setInputFiles({ name: 'report.pdf', mimeType: 'application/pdf', buffer: pdf });
      for (const [u, dir] of [
        [bob, 'in'],
        [alice, 'out'],
      ] as const) {
        const image = bubble(u, dir, 'dot.png');
        await image.locator('img.attach-thumb').waitFor({ timeout: SLOW });
        assert.ok(
          await image
            .locator('img.attach-thumb')
            .evaluate((img) => (img as HTMLImageElement).naturalWidth === 1),
          `${u.name} sees the verified image`,
        );
        assert.equal(await image.locator('a.attach-open').getAttribute('target'), '_blank');
        await bubble(u, dir, 'report.pdf').getByRole('button', { name: 'Save' }).waitFor({ timeout: SLOW });
      }
      assert.match(
        (await bubble(bob, 'in', 'report.pdf').locator('.attach-name').textContent()) ?? '',
        /report\.pdf · 293 KB · application\/pdf/,
      );
      // Ticks of a message: delivered once Bob's verified "complete" came back, then read.
      await bubble(alice, 'out', 'report.pdf').locator('.ticks.read').waitFor({ timeout: SLOW });
      const [download] = await Promise.all([
        bob.page.waitForEvent('download', { timeout: UI }),
        bubble(bob, 'in', 'report.pdf').getByRole('button', { name: 'Save' }).click(),
      ]);
      assert.equal(download.suggestedFilename(), 'report.pdf');
      const saved = await readFile((await download.path())!);
      assert.ok(saved.equals(pdf), 'the saved file has the bytes sent');
      await shot(bob.page, 'attachments-direct-received');
      assert.equal(entries.filter((e) => e.tx.payload.length > 10_000).length, 0, 'no chunk went on chain');
    } finally {
      stop();
    }
    for (const u of [alice, bob]) {
      await u.page.reload();
      await unlock(u);
      await openChat(u, u === alice ? 'Bob' : 'Alice');
    }
    await bubble(bob, 'in', 'dot.png').locator('img.attach-thumb').waitFor({ timeout: UI });
    await bubble(bob, 'in', 'report.pdf').getByRole('button', { name: 'Save' }).waitFor({ timeout: UI });
    await bubble(alice, 'out', 'report.pdf').locator('.ticks.read').waitFor({ timeout: UI });
    assert.equal(await bob.page.locator('li.msg.in .attach-name', { hasText: 'report.pdf' }).count(), 1);
    assert.equal(await bob.page.locator('li.attachment').count(), 0, 'no row beside the messages');
    await shot(alice.page, 'attachments-after-reload');
    await alice.page.locator('.conn.connected').waitFor({ timeout: SLOW });
  });

  it('resume: Bob reloads mid-transfer; after he unlocks, the file finishes by itself with the bytes sent', async () => {
    // 30 chunks; Bob's page stores each chunk 250 ms late (its IndexedDB chunk writes answer
    // late, as a slow device's would), so the reload lands mid-transfer. The reloaded page
    // has no such delay: what it lacks comes at the link's speed.
    const bytes = pdfLike(360_000);
    await delayIdb(bob.page, 'put', 'attachments.chunks', 250);
    await picker(alice).setInputFiles({ name: 'resume.pdf', mimeType: 'application/pdf', buffer: bytes });
    const progress = 'li.msg.in progress';
    await bob.page
      .waitForFunction(
        (sel) => {
          const p = document.querySelector(sel) as HTMLProgressElement | null;
          return p !== null && p.value >= 3 && p.value < p.max;
        },
        progress,
        { timeout: SLOW },
      )
      .catch((e: unknown) => {
        throw new Error('Bob never showed resume.pdf partly received', { cause: e });
      });
    const partly = await bob.page.locator(progress).evaluate((p: HTMLProgressElement) => [p.value, p.max]);
    await bob.page.reload();
    await unlock(bob);
    await openChat(bob, 'Alice');
    const got = bubble(bob, 'in', 'resume.pdf');
    await got
      .getByRole('button', { name: 'Save' })
      .waitFor({ timeout: SLOW })
      .catch(async (e: unknown) => {
        throw new Error(
          `resume.pdf did not finish after the reload at ${partly.join(' of ')}: ${(await got.textContent()) ?? ''}`,
          {
            cause: e,
          },
        );
      });
    const [download] = await Promise.all([
      bob.page.waitForEvent('download', { timeout: UI }),
      got.getByRole('button', { name: 'Save' }).click(),
    ]);
    const saved = await readFile((await download.path())!);
    assert.equal(
      bytesToHex(blake3(saved)),
      bytesToHex(blake3(bytes)),
      `BLAKE3 after a reload at ${partly.join(' of ')}`,
    );
    await bubble(alice, 'out', 'resume.pdf')
      .locator('.ticks.delivered, .ticks.read')
      .waitFor({ timeout: SLOW });
  });

  it('bad input: an empty file is refused in words; the conversation is unaffected', async () => {
    const before = await alice.page.locator('li.msg').count();
    await picker(alice).setInputFiles({ name: 'empty.txt', mimeType: 'text/plain', buffer: Buffer.alloc(0) });
    await alice.page.locator('.attach-error', { hasText: 'empty.txt was not sent' }).waitFor({ timeout: UI });
    assert.equal(await alice.page.locator('li.msg').count(), before, 'nothing added');
    await send(alice, 'still here');
    await received(bob, 'still here');
  });

  it('chain: to Bob offline, a file over the offline limit waits without a price; a small one shows its cost, "Send now" pays, Bob comes back to it verified', async () => {
    await bob.page.close();
    await alice.page.locator('.conn:not(.connected)').waitFor({ timeout: SLOW });
    const { entries, stop } = batchesPublished(app);
    const small = pdfLike(30_000);
    try {
      await picker(alice).setInputFiles({
        name: 'big.bin',
        mimeType: 'application/octet-stream',
        buffer: pdfLike(1024 * 1024 + 1),
      });
      const big = bubble(alice, 'out', 'big.bin');
      await big
        .getByText(/Files over 1\.0 MB are sent only while your contact is online\./)
        .waitFor({ timeout: UI });
      assert.equal(await big.getByRole('button', { name: 'Send now' }).count(), 0, 'no way to pay for it');

      await picker(alice).setInputFiles({ name: 'notes.pdf', mimeType: 'application/pdf', buffer: small });
      const note = bubble(alice, 'out', 'notes.pdf');
      const cost = note.locator('.attach-cost', { hasText: /uses about \d+ of your secure messages/ });
      await cost.waitFor({ timeout: SLOW });
      await shot(alice.page, 'attachments-offline-cost');
      const paidBefore = entries.length;
      await note.getByRole('button', { name: 'Send now', disabled: false }).click({ timeout: UI });
      // Published: the message has its proof, as a text sent securely has.
      await note.getByRole('button', { name: 'View delivery proof' }).waitFor({ timeout: SLOW });
      assert.ok(entries.length > paidBefore, 'the chunks went on chain');
    } finally {
      stop();
    }
    bob.page = await app.openPage(bob);
    await unlock(bob);
    await openChat(bob, 'Alice');
    await bubble(bob, 'in', 'notes.pdf').getByRole('button', { name: 'Save' }).waitFor({ timeout: SLOW });
    await bubble(alice, 'out', 'notes.pdf')
      .locator('.ticks.delivered, .ticks.read')
      .waitFor({ timeout: SLOW });
    await shot(bob.page, 'attachments-chain-received');
    assert.equal(await bob.page.locator('li.msg.in .attach-name', { hasText: 'notes.pdf' }).count(), 1);
  });
});

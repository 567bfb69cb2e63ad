/**
 * Adding a contact with the camera, in real Chromium on the real core: Chromium's fake camera
 * plays a video made here at run time, frames showing the QR code of Bob's real invite link
 * drawn by the app's own encoder (`qrModules`); Alice's "Scan QR code" opens that camera,
 * decodes the code, shows Bob's name and key, and adds him.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { qrModules } from '../../../src/web/qr.ts';
import { fakeCameraArgs, launchChromium, y4mVideo } from '../../harness/browser.ts';
import { UI, shot, startRealApp, type RealApp, type User } from './real-app.ts';

/** Pixels per QR module, and the white margin around the code, in the camera frames. */
const MODULE_PX = 4;
const MARGIN_PX = 48;
/** Studio-range luma of black and white (ITU-R BT.601), as a camera delivers them. */
const DARK = 16;
const LIGHT = 235;

/** One grey camera frame showing the QR code of `text`, centred on white. */
function qrFrame(text: string): { side: number; luma: Uint8Array } {
  const qr = qrModules(text);
  const code = qr.size * MODULE_PX;
  const side = Math.ceil((code + 2 * MARGIN_PX) / 2) * 2;
  const luma = new Uint8Array(side * side).fill(LIGHT);
  const offset = Math.floor((side - code) / 2);
  for (let y = 0; y < qr.size; y++) {
    for (let x = 0; x < qr.size; x++) {
      if (qr.data[y]?.[x] !== true) continue;
      for (let dy = 0; dy < MODULE_PX; dy++) {
        const row = (offset + y * MODULE_PX + dy) * side + offset + x * MODULE_PX;
        luma.fill(DARK, row, row + MODULE_PX);
      }
    }
  }
  return { side, luma };
}

describe('adding a contact with the camera, on the real core in Chromium', () => {
  let app: RealApp;
  let camera: Browser;
  let dir: string;
  let bob: User;
  let alice: User;

  before(async () => {
    app = await startRealApp();
    bob = await app.newUser('Bob', 'bob-vault-password');
    // The camera shows Bob's invite as his "My card" screen would.
    const { side, luma } = qrFrame(bob.invite);
    dir = await mkdtemp(join(tmpdir(), 'p2pcomm-camera-'));
    const video = join(dir, 'bob-invite.y4m');
    await writeFile(video, y4mVideo(side, side, [luma, luma, luma]));
    camera = await launchChromium([
      ...fakeCameraArgs(video),
      '--disable-features=WebRtcHideLocalIpsWithMdns',
    ]);
    alice = await app.newUser('Alice', 'alice-vault-password', { browser: camera });
  });

  after(async () => {
    await camera?.close();
    await app?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('scans the QR code of an invite, shows who it is, and adds the contact', async () => {
    const { page } = alice;
    const bobKey = ((await bob.page.locator('p.fp').first().textContent()) ?? '').replace(/^.* key /, '');
    assert.match(bobKey, /^[0-9a-f]{4}( [0-9a-f]{4}){3}$/);

    await page.getByRole('link', { name: 'Add contact' }).first().click();
    await page.getByRole('button', { name: 'Scan QR code' }).click();
    await page.getByRole('heading', { name: 'Add Bob?' }).waitFor({ timeout: UI });
    assert.equal(await page.locator('.preview .fp').textContent(), bobKey);
    // The camera is off once the code is read, and the link it carried is in the field.
    assert.equal(await page.locator('.scanner').isHidden(), true);
    assert.equal(await page.evaluate(() => document.querySelector('video')?.srcObject ?? null), null);
    assert.equal(await page.getByRole('textbox', { name: 'Invite link' }).inputValue(), bob.invite);
    await shot(page, '40-scanned-invite');

    await page.getByRole('button', { name: 'Add contact' }).click();
    await page.locator('.conv-name', { hasText: 'Bob' }).waitFor({ timeout: UI });
    assert.equal(await page.locator('.conv-fp').textContent(), `key ${bobKey}`);
    await page.locator('a.chat-row', { hasText: 'Bob' }).waitFor({ timeout: UI });
  });

  it('reported no page errors, dialogs or console errors', () => {
    assert.deepEqual(alice.problems, []);
    assert.deepEqual(bob.problems, []);
  });
});

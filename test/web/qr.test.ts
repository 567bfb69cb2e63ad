/** QR codes as the app draws them decode back to the same invite link (jsQR path). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBrowserHarness, type BrowserHarness } from '../harness/browser.ts';

interface QrEntry {
  roundTrip(text: string, native: boolean, scale?: number): Promise<string | null>;
  decodeBlank(native: boolean): Promise<string | null>;
}

describe('QR codes in Chromium', () => {
  let harness: BrowserHarness;
  before(async () => {
    harness = await startBrowserHarness(new URL('./qr-entry.ts', import.meta.url).pathname);
  });
  after(async () => {
    await harness.close();
  });

  it('decodes invite links of realistic lengths back exactly', async () => {
    const page = await harness.newPage();
    const code = 'eyJ2IjoxLCJuIjoiQWRhIiwiZiI6IjcxNTMgMmQ4YSBiMmVjIGMwMGYifQ';
    for (const text of [
      `http://127.0.0.1:8080/#/add/${code}`,
      `https://p2pcomm.example/app/#/add/${code}${'A'.repeat(300)}`,
    ]) {
      const out = await page.evaluate(
        ([t]) => (globalThis as unknown as { testApi: QrEntry }).testApi.roundTrip(t, false),
        [text] as const,
      );
      assert.equal(out, text);
    }
  });

  it('finds nothing in a blank image rather than inventing a result', async () => {
    const page = await harness.newPage();
    const out = await page.evaluate(() =>
      (globalThis as unknown as { testApi: QrEntry }).testApi.decodeBlank(false),
    );
    assert.equal(out, null);
  });
});

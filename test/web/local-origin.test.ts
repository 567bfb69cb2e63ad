/**
 * The local faucet beside the web app (src/web/engine/local-origin.ts) pays only requests
 * from the app's own page: a page of any other origin (or a DNS-rebound name) must not be
 * able to drain it, and the devnet's control port (src/devnet/control.ts) takes no browser
 * requests at all.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { serveAppWithLocalFaucet } from '../../src/web/engine/local-origin.ts';
import { startControlServer, type ControlServer } from '../../src/devnet/control.ts';
import type { DevnetFaults } from '../../src/devnet/faults.ts';
import { serveWeb, type WebServer } from '../../src/web/serve.ts';

const ADDRESS = 'kaspasim:qqzrk3a4acjla3zc9ngr37u4grtkr0k0mqf6qhmd9lteks00av6ass27ptvdg';

/** A raw HTTP request (fetch would not let a test set Origin and Host freely). */
function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body = '',
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('local faucet on the app origin', () => {
  let root: string;
  let web: WebServer;
  const paid: string[] = [];
  let origin: string;
  let fund: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'p2pcomm-origin-'));
    await writeFile(join(root, 'index.html'), '<!doctype html><html><head><title>app</title></head></html>');
    web = await serveAppWithLocalFaucet({
      root,
      port: 0,
      fund: (address) => {
        paid.push(address);
        return '00'.repeat(32);
      },
    });
    origin = new URL(web.url).origin;
    fund = new URL('/devnet/fund', web.url).href;
  });
  after(async () => {
    await web?.close();
    await rm(root, { recursive: true, force: true });
  });

  const body = JSON.stringify({ address: ADDRESS });
  const json = { 'content-type': 'application/json' };

  it('names its faucet in the page it serves, and only there', async () => {
    const page = await send(web.url, 'GET', {});
    assert.equal(page.status, 200);
    assert.match(page.text, /<head><meta name="p2pcomm-local-faucet" content="\/devnet\/fund" \/><title>/);
    // The same files from the plain static server name no faucet (config.ts asks none there).
    const plain = await serveWeb({ root, port: 0 });
    try {
      const res = await send(plain.url, 'GET', {});
      assert.equal(res.status, 200);
      assert.doesNotMatch(res.text, /p2pcomm-local-faucet/);
    } finally {
      await plain.close();
    }
  });

  it("pays a JSON POST from the app's own page", async () => {
    const before = paid.length;
    const res = await send(fund, 'POST', { ...json, origin }, body);
    assert.equal(res.status, 200, res.text);
    assert.equal(paid.length, before + 1);
    // The same page opened as localhost is the same app.
    const local = origin.replace('127.0.0.1', 'localhost');
    const host = new URL(local).host;
    assert.equal((await send(fund, 'POST', { ...json, origin: local, host }, body)).status, 200);
  });

  it('refuses other origins, no origin, a rebound host name, other content types and methods', async () => {
    const before = paid.length;
    const port = new URL(web.url).port;
    const refused: [string, string, Record<string, string>, number][] = [
      ['another site', 'POST', { ...json, origin: 'https://evil.example' }, 403],
      ['another local port', 'POST', { ...json, origin: 'http://127.0.0.1:1' }, 403],
      ['an opaque origin (sandboxed frame, no-referrer)', 'POST', { ...json, origin: 'null' }, 403],
      ['no origin', 'POST', json, 403],
      // DNS rebinding: the attacker's name resolves to 127.0.0.1, so its page is "same origin".
      [
        'a rebound name',
        'POST',
        { ...json, origin: `http://evil.example:${port}`, host: `evil.example:${port}` },
        403,
      ],
      // text/plain is what a cross-origin page may send without a preflight.
      ['text/plain', 'POST', { 'content-type': 'text/plain', origin }, 415],
      ['a form', 'POST', { 'content-type': 'application/x-www-form-urlencoded', origin }, 415],
      ['PUT', 'PUT', { ...json, origin }, 405],
    ];
    for (const [what, method, headers, status] of refused) {
      const res = await send(fund, method, headers, body);
      assert.equal(res.status, status, `${what}: ${res.text}`);
    }
    assert.equal(paid.length, before, 'nothing paid');
  });
});

describe('devnet control endpoint', () => {
  let control: ControlServer;
  const paid: string[] = [];

  before(async () => {
    control = await startControlServer({
      host: '127.0.0.1',
      port: 0,
      mine: () => [],
      fund: (address) => {
        paid.push(address);
        return '00'.repeat(32);
      },
      faults: {} as DevnetFaults,
      status: () => ({ ok: true }),
    });
  });
  after(async () => control?.close());

  const body = JSON.stringify({ address: ADDRESS, amount: '1' });

  it('serves scripts: JSON POST without an Origin', async () => {
    const res = await send(`${control.url}/fund`, 'POST', { 'content-type': 'application/json' }, body);
    assert.equal(res.status, 200, res.text);
    assert.equal(paid.length, 1);
  });

  it('refuses every browser request (any Origin), rebound host names and non-JSON bodies', async () => {
    const port = new URL(control.url).port;
    const cases: [string, Record<string, string>, number][] = [
      ['a page', { 'content-type': 'application/json', origin: 'https://evil.example' }, 403],
      ['the app itself', { 'content-type': 'application/json', origin: 'http://127.0.0.1:8080' }, 403],
      ['a rebound name', { 'content-type': 'application/json', host: `evil.example:${port}` }, 403],
      ['text/plain (a no-cors page request)', { 'content-type': 'text/plain' }, 415],
    ];
    for (const [what, headers, status] of cases) {
      const res = await send(`${control.url}/fund`, 'POST', headers, body);
      assert.equal(res.status, status, `${what}: ${res.text}`);
    }
    assert.equal(paid.length, 1, 'nothing more paid');
    // Read-only status stays open to scripts.
    assert.equal((await send(`${control.url}/status`, 'GET', {})).status, 200);
  });
});

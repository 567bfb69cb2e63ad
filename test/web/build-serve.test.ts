/** The build output and the dev server: files, icons, CSP, MIME types, path confinement. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildWeb, type BuildWebResult } from '../../scripts/build-web.ts';
import { serveWeb, type WebServer } from '../../src/web/serve.ts';
import { CSP_HEADER, CSP_META } from '../../src/web/csp.ts';

/** A raw GET, so paths like "/../x" reach the server unnormalised. */
async function rawGet(
  url: string,
  path: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('buildWeb and serveWeb', () => {
  let dir: string;
  let built: BuildWebResult;
  let server: WebServer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'p2pcomm-build-'));
    built = await buildWeb({ outDir: dir });
    server = await serveWeb({ root: dir, port: 0 });
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('emits the shell: script, worker, CSS, page, manifest and icons', () => {
    const names = built.files.map((f) => f.path);
    for (const n of [
      'app.js',
      'sw.js',
      'app.css',
      'index.html',
      'manifest.webmanifest',
      'icon.svg',
      'icon-192.png',
      'icon-512.png',
    ]) {
      assert.ok(names.includes(n), n);
    }
    assert.ok(
      names.some((n) => /^chunks\/jsQR-.*\.js$/.test(n)),
      'QR decoder split out',
    );
    for (const f of built.files) assert.ok(f.gzipBytes > 0 && f.bytes > 0);
    assert.match(built.buildId, /^[0-9a-f]{16}$/);
  });

  it('writes valid PNG icons of the declared sizes', async () => {
    for (const size of [192, 512]) {
      const png = await readFile(join(dir, `icon-${size}.png`));
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      assert.equal(png.toString('ascii', 12, 16), 'IHDR');
      assert.equal(png.readUInt32BE(16), size);
      assert.equal(png.readUInt32BE(20), size);
    }
  });

  it('puts the CSP in a meta tag and keeps the page free of inline script and style', async () => {
    const html = await readFile(join(dir, 'index.html'), 'utf8');
    assert.ok(html.includes(`content="${CSP_META}"`));
    assert.doesNotMatch(html, /<script>|<script [^>]*>[^<]|style=|<style/);
    assert.doesNotMatch(CSP_META, /unsafe-inline|unsafe-eval|frame-ancestors/);
    assert.match(CSP_HEADER, /frame-ancestors 'none'/);
    const sw = await readFile(join(dir, 'sw.js'), 'utf8');
    assert.ok(sw.includes(built.buildId), 'worker cache named by build id');
  });

  it('serves files with their MIME type and the security headers', async () => {
    const cases: [string, string][] = [
      ['/', 'text/html; charset=utf-8'],
      ['/app.js', 'text/javascript; charset=utf-8'],
      ['/app.css', 'text/css; charset=utf-8'],
      ['/manifest.webmanifest', 'application/manifest+json'],
      ['/icon.svg', 'image/svg+xml'],
      ['/icon-192.png', 'image/png'],
    ];
    for (const [path, type] of cases) {
      const res = await rawGet(server.url, path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers['content-type'], type, path);
      assert.equal(res.headers['content-security-policy'], CSP_HEADER, path);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', path);
    }
  });

  it('refuses paths outside the root and unknown files', async () => {
    for (const path of [
      '/../package.json',
      '/%2e%2e/package.json',
      '/..%2f..%2fetc/passwd',
      '/chunks/',
      '/nope.js',
    ]) {
      const res = await rawGet(server.url, path);
      assert.ok(res.status === 403 || res.status === 404, `${path}: ${res.status}`);
      assert.doesNotMatch(res.body, /"name": "p2pcomm"|root:/);
    }
    assert.equal((await rawGet(server.url, '/%E0%A4%A')).status, 400);
  });

  it('keeps serving when a file fails while it is read', async () => {
    // A file that stats as a regular file but fails on read (EIO), as one removed or
    // damaged between the stat and the read would.
    await symlink('/proc/self/mem', join(dir, 'unreadable.txt'));
    try {
      await rawGet(server.url, '/unreadable.txt').catch(() => undefined);
      const res = await rawGet(server.url, '/');
      assert.equal(res.status, 200);
      assert.match(res.body, /<html/i);
    } finally {
      await rm(join(dir, 'unreadable.txt'));
    }
  });

  it('binds loopback only', async () => {
    await assert.rejects(serveWeb({ root: dir, host: '0.0.0.0' }), RangeError);
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  });
});

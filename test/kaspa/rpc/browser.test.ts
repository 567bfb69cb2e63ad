import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { startBrowserHarness, type BrowserHarness } from '../../harness/browser.ts';
import { FakeWrpcServer, NO_REPLY } from './fake-server.ts';
import { SERVER_INFO_U64_MAX } from './fixtures.ts';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

describe('wRPC client in the browser', () => {
  it('bundles for the browser without the ws package', async () => {
    const result = await build({
      entryPoints: [here('../../../src/kaspa/rpc/client.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    assert.ok(inputs.some((i) => i.endsWith('src/kaspa/rpc/client.ts')));
    assert.deepEqual(
      inputs.filter((i) => i.includes('node_modules/ws/')),
      [],
    );
    const text = result.outputFiles[0]!.text;
    assert.doesNotMatch(text, /ws does not work in the browser/);
    assert.doesNotMatch(text, /from ["']ws["']|require\(["']ws["']\)/);
  });

  describe('in Chromium against a Node fake server', () => {
    let harness: BrowserHarness;
    let server: FakeWrpcServer;
    before(async () => {
      harness = await startBrowserHarness(here('./browser/entry.ts'));
      server = await FakeWrpcServer.start();
    });
    after(async () => {
      await harness.close();
      await server.close();
    });

    it('connects with the native WebSocket, keeps u64 exact, gets notifications, reconnects, times out', async () => {
      server.on('getServerInfo', () => SERVER_INFO_U64_MAX);
      server.on('getInfo', () => NO_REPLY);
      const page = await harness.newPage();
      const url = server.url;
      const result = page.evaluate(
        (u) =>
          (
            globalThis as unknown as { testApi: { exercise(u: string): Promise<Record<string, string>> } }
          ).testApi.exercise(u),
        url,
      );
      await page.waitForFunction(
        () => (globalThis as { readyForNotification?: boolean }).readyForNotification === true,
      );
      server.notify('VirtualDaaScoreChanged', 'virtualDaaScoreChangedNotification', {
        virtualDaaScore: 9007199254740993n,
      });
      await page.waitForFunction(() => (globalThis as { readyForDrop?: boolean }).readyForDrop === true);
      server.dag = { virtualDaaScore: 5n, sink: 'dd'.repeat(32) };
      server.dropAll();
      const out = await result;
      assert.deepEqual(out, {
        virtualDaaScore: '18446744073709551615',
        usesNativeWebSocket: 'true',
        notified: '9007199254740993',
        sinkAfterReconnect: 'dd'.repeat(32),
        timeoutCode: 'TIMEOUT',
      });
      assert.equal(server.connections.length, 2);
    });
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KaspaRpcClient } from '../../../src/kaspa/rpc/client.ts';
import type { Timers, WebSocketLike } from '../../../src/kaspa/rpc/socket.ts';

/** Manual timers: nothing fires until the test says so. */
class ManualTimers implements Timers {
  private seq = 0;
  readonly scheduled = new Map<number, { fn: () => void; ms: number }>();
  random = (): number => 0.5;
  now = (): number => 0;
  setTimeout(fn: () => void, ms: number): unknown {
    const h = ++this.seq;
    this.scheduled.set(h, { fn, ms });
    return h;
  }
  clearTimeout(h: unknown): void {
    this.scheduled.delete(h as number);
  }
  /** Fires the earliest-scheduled timer whose delay is not a request/connect timeout. */
  fire(filter: (ms: number) => boolean): number | undefined {
    for (const [h, t] of this.scheduled) {
      if (!filter(t.ms)) continue;
      this.scheduled.delete(h);
      t.fn();
      return t.ms;
    }
    return undefined;
  }
}

/** A socket that fails to open as soon as the client has attached its handlers. */
function refusingSocket(): WebSocketLike {
  const s: WebSocketLike = {
    readyState: 0,
    binaryType: 'blob',
    send: () => undefined,
    close: () => undefined,
    onopen: null,
    onmessage: null,
    onclose: null,
    onerror: null,
  };
  setImmediate(() => s.onclose?.({ code: 1006 }));
  return s;
}

const flush = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

describe('reconnect backoff', () => {
  it('doubles the delay up to the cap, jittered to [1/2, 1] of it, and rotates through the URLs', async () => {
    const timers = new ManualTimers();
    const tried: string[] = [];
    const client = new KaspaRpcClient({
      urls: ['ws://127.0.0.1:1', 'ws://127.0.0.1:2'],
      timers,
      heartbeatMs: 0,
      connectTimeoutMs: 10_000,
      reconnect: { initialDelayMs: 100, maxDelayMs: 1000 },
      webSocketFactory: (url) => {
        tried.push(url);
        return refusingSocket();
      },
    });
    const errors: unknown[] = [];
    client.on('error', (e) => errors.push(e));
    const connecting = client.connect({ timeoutMs: 99_999 });
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      while (![...timers.scheduled.values()].some((t) => t.ms < 10_000)) await flush();
      const ms = timers.fire((d) => d < 10_000);
      assert.notEqual(ms, undefined);
      delays.push(ms!);
    }
    // random() = 0.5 → 3/4 of min(1000, 100·2^n).
    assert.deepEqual(delays, [75, 150, 300, 600, 750, 750]);
    assert.deepEqual(tried.slice(0, 4), [
      'ws://127.0.0.1:1',
      'ws://127.0.0.1:2',
      'ws://127.0.0.1:1',
      'ws://127.0.0.1:2',
    ]);
    assert.ok(errors.length >= 6);
    client.close();
    await assert.rejects(connecting, (e: unknown) => (e as { code?: string }).code === 'CONNECTION_CLOSED');
  });
});

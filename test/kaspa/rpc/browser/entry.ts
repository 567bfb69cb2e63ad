/** Browser-side entry for the Chromium test: runs the client with the platform WebSocket. */
import { KaspaRpcClient } from '../../../../src/kaspa/rpc/client.ts';
import { RpcError } from '../../../../src/kaspa/rpc/errors.ts';
import { bytesToHex } from '../../../../src/util/bytes.ts';

/** Connects, calls, subscribes, survives a drop; returns what it saw as plain strings. */
export async function exercise(url: string): Promise<Record<string, string>> {
  const client = new KaspaRpcClient({
    urls: url,
    heartbeatMs: 0,
    reconnect: { initialDelayMs: 10, maxDelayMs: 50 },
  });
  const out: Record<string, string> = {};
  try {
    await client.connect();
    const info = await client.getServerInfo();
    out['virtualDaaScore'] = info.virtualDaaScore.toString();
    out['usesNativeWebSocket'] = String(typeof globalThis.WebSocket === 'function');
    const scores: bigint[] = [];
    const gotScore = new Promise<void>((resolve) => {
      void client.subscribeVirtualDaaScoreChanged((s) => {
        scores.push(s);
        resolve();
      });
    });
    await client.ping(); // the subscription is acknowledged before this answer
    (globalThis as { readyForNotification?: boolean }).readyForNotification = true;
    await gotScore;
    out['notified'] = scores.map(String).join(',');
    const reconnected = new Promise<string>((resolve) =>
      client.on('reconnect', (g) => resolve(bytesToHex(g.after.sink!))),
    );
    (globalThis as { readyForDrop?: boolean }).readyForDrop = true;
    out['sinkAfterReconnect'] = await reconnected;
    try {
      await client.getInfo({ timeoutMs: 50 });
    } catch (e) {
      out['timeoutCode'] = e instanceof RpcError ? e.code : 'other';
    }
  } finally {
    client.close();
  }
  return out;
}

/**
 * Child-process host of a Node test driver, so a test can kill the peer outright (SIGKILL:
 * no close frame, no SCTP ABORT, no DTLS alert) and watch the heartbeat notice.
 */
import { weriftStack } from '../../src/transport/webrtc-node.ts';
import { createDriver, type DriverMethod } from './driver.ts';

const driver = createDriver(weriftStack({ additionalHostAddresses: ['127.0.0.1'] }));

interface Call {
  readonly id: number;
  readonly method: DriverMethod;
  readonly args: unknown[];
}

process.on('message', (msg: Call) => {
  const fn = driver[msg.method] as (...args: unknown[]) => Promise<unknown>;
  fn(...msg.args).then(
    (value) => process.send?.({ id: msg.id, ok: true, value }),
    (e: unknown) =>
      process.send?.({ id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
  );
});
process.send?.({ ready: true });

/** The shared transport suite, werift ↔ werift (`b` in a child process so it can be killed). */
import { weriftStack } from '../../src/transport/webrtc-node.ts';
import { createDriver } from './driver.ts';
import { childEndpoint, inProcessEndpoint } from './endpoints.ts';
import { transportSuite } from './suite.ts';

transportSuite('werift ↔ werift', {
  async makePair() {
    const a = inProcessEndpoint(
      'node-a',
      createDriver(weriftStack({ additionalHostAddresses: ['127.0.0.1'] })),
    );
    let b = await childEndpoint('node-b');
    const pair = {
      a,
      b,
      async respawnB() {
        await b.dispose();
        b = await childEndpoint('node-b');
        pair.b = b;
        return b;
      },
      async dispose() {
        await Promise.all([a.dispose(), pair.b.dispose()]);
      },
    };
    return pair;
  },
});

/** The shared transport suite, werift ↔ werift (`b` in a child process so it can be killed). */
import { weriftStack } from '../../src/transport/webrtc-node.ts';
import { createDriver } from './driver.ts';
import { childEndpoint, inProcessEndpoint, respawnablePair } from './endpoints.ts';
import { transportSuite } from './suite.ts';

transportSuite('werift ↔ werift', {
  makePair: () =>
    respawnablePair(
      inProcessEndpoint('node-a', createDriver(weriftStack({ additionalHostAddresses: ['127.0.0.1'] }))),
      () => childEndpoint('node-b'),
    ),
});

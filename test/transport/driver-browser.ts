/** Browser bundle entry: the test driver over the native RTCPeerConnection. */
import { nativeStack } from '../../src/transport/webrtc-browser.ts';
import { createDriver } from './driver.ts';

export const driver = createDriver(nativeStack());

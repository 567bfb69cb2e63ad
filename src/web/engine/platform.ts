/**
 * What `RealApi` needs of the runtime it runs in, as one small port: where the profile's
 * database lives, how WebRTC links are made, how one live instance per profile is ensured,
 * and how the local faucet is asked. Everything else in the engine is the same code in the
 * browser and in Node. The browser's implementation is the default; the Node one
 * (src/api/node-platform.ts) backs the command-line client and the public API.
 */
import type { KeyValueStore } from '../../storage/types.ts';
import { deleteIndexedDbStore } from '../../storage/indexeddb.ts';
import type { PeerTransport } from '../../transport/types.ts';
import { createBrowserTransport } from '../../transport/webrtc-browser.ts';
import { requestLocalFunds } from './faucet.ts';
import { ProfileInstance, type InstanceMessage } from './instance.ts';
import { openRawProfile } from './profile.ts';

/** One profile's single-instance guard (instance.ts describes the browser's). */
export interface InstanceGuard {
  /** Whether this instance holds the profile. */
  readonly held: boolean;
  /** Takes the profile if no other instance holds it; false when one does. */
  acquire(): Promise<boolean>;
  /** Lets the profile go (idempotent). */
  release(): void;
  /** Whether another instance holds the profile now. */
  heldElsewhere(): Promise<boolean>;
  /** Asks the live instance to step aside; false when it did not within the bound. */
  takeOver(timeoutMs?: number): Promise<boolean>;
  /** Tells the other instances of the profile (a hint, never a decision). */
  post(message: InstanceMessage): void;
  close(): void;
}

/** The runtime-specific parts of `RealApi`. `profile` is the database name or directory. */
export interface Platform {
  /** Opens the profile's database structurally (only `profile` is readable before the key). */
  openRawProfile(profile: string): Promise<KeyValueStore>;
  /** Deletes the profile's database (closed by the caller first). */
  deleteProfile(profile: string): Promise<void>;
  /** The WebRTC transport of this runtime. */
  createTransport(): PeerTransport;
  /** The single-instance guard of `profile`; `onMessage` hears its other instances. */
  instance(profile: string, onMessage: (m: InstanceMessage) => void): InstanceGuard;
  /** Asks the local network's faucet (loopback only, faucet.ts) to fund `address`. */
  requestLocalFunds(faucetUrl: string, address: string): Promise<void>;
}

/** The browser: IndexedDB, the native RTCPeerConnection, a Web Lock, the same-origin faucet. */
export const browserPlatform: Platform = {
  openRawProfile,
  deleteProfile: deleteIndexedDbStore,
  createTransport: () => createBrowserTransport(),
  instance: (profile, onMessage) => new ProfileInstance(profile, onMessage),
  requestLocalFunds,
};

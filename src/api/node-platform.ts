/**
 * The engine's platform port (src/web/engine/platform.ts) in Node: the profile is a data
 * directory holding the SQLite store, WebRTC links go through werift, and the faucet of the
 * local network is asked on its control endpoint (src/devnet/control.ts).
 *
 * One process per profile: the directory lock of `openProfileDirectory` (an OS file lock the
 * kernel drops with the process, storage/profile-dir.ts) is held from the moment the profile
 * is opened, locked or not, until it is closed. A second process (or a second handle in this
 * one) fails at once with StorageError PROFILE_IN_USE, so the instance guard itself has
 * nothing left to decide and always grants.
 */
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PROFILE_FILES, openProfileDirectory } from '../storage/profile-dir.ts';
import type { PeerTransport } from '../transport/types.ts';
import type { NodeStackOptions } from '../transport/webrtc-node.ts';
import { LOCAL_FAUCET_KAS } from '../web/engine/faucet.ts';
import { isLoopbackUrl } from '../web/engine/network.ts';
import type { InstanceGuard, Platform } from '../web/engine/platform.ts';
import { WEB_SCHEMA } from '../web/engine/profile.ts';

/** Longest wait for the local faucet's answer. */
const FAUCET_TIMEOUT_MS = 10_000;

/** The guard of a process that already holds the directory lock. */
class DirectoryHeld implements InstanceGuard {
  #held = false;
  get held(): boolean {
    return this.#held;
  }
  acquire(): Promise<boolean> {
    this.#held = true;
    return Promise.resolve(true);
  }
  release(): void {
    this.#held = false;
  }
  heldElsewhere(): Promise<boolean> {
    return Promise.resolve(false);
  }
  takeOver(): Promise<boolean> {
    return Promise.resolve(true);
  }
  post(): void {}
  close(): void {
    this.#held = false;
  }
}

/**
 * The werift transport, loaded on the first link: werift is the largest part of the start-up
 * of a one-shot command (`p2pcomm history`, `contacts`), which never opens a link, so the
 * module is imported only when an offer is made or answered.
 */
function lazyNodeTransport(options: NodeStackOptions): PeerTransport {
  let loaded: Promise<PeerTransport> | undefined;
  const transport = (): Promise<PeerTransport> =>
    (loaded ??= import('../transport/webrtc-node.ts').then((m) => m.createNodeTransport(options)));
  return {
    createOffer: async (o) => (await transport()).createOffer(o),
    acceptOffer: async (offer, o) => (await transport()).acceptOffer(offer, o),
  };
}

/** Options of `nodePlatform`. */
export interface NodePlatformOptions {
  /** werift knobs, e.g. `additionalHostAddresses: ['127.0.0.1']` for two ends on one machine. */
  readonly transport?: NodeStackOptions;
}

/** The Node platform; profiles are named by their data directory. */
export function nodePlatform(options: NodePlatformOptions = {}): Platform {
  return {
    // Structural only (`storageKey: null`): the engine seals it once the vault is open (profile.ts).
    openRawProfile: (dir) => openProfileDirectory(dir, WEB_SCHEMA, { storageKey: null }),
    async deleteProfile(dir) {
      const data = join(resolve(dir), PROFILE_FILES.data);
      // The database and its WAL companions (https://www.sqlite.org/tempfiles.html).
      for (const suffix of ['', '-wal', '-shm', '-journal']) await rm(data + suffix, { force: true });
    },
    createTransport: () => lazyNodeTransport(options.transport ?? {}),
    instance: () => new DirectoryHeld(),
    async requestLocalFunds(faucetUrl, address) {
      if (!isLoopbackUrl(faucetUrl, ['http:']))
        throw new RangeError(`"faucetUrl" expected a loopback http:// URL, got ${faucetUrl}`);
      const res = await fetch(faucetUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ address, amount: LOCAL_FAUCET_KAS }),
        signal: AbortSignal.timeout(FAUCET_TIMEOUT_MS),
      });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`the local faucet answered ${res.status}`);
    },
  };
}

/**
 * The narrow port the device-to-device link runs over, and a bounded inbox on top of it.
 * A WebRTC `PeerLink` (src/transport) fits it as it is; tests may use any ordered, reliable
 * message channel. Nothing here knows how the channel was brought up (docs/devices.md §5:
 * WebRTC with its offer and answer carried on chain, sealed with the link secret).
 */
import { DeviceError } from './errors.ts';

/** An ordered, reliable message channel between the two devices. */
export interface DeviceChannel {
  send(bytes: Uint8Array): Promise<void>;
  onMessage(handler: (bytes: Uint8Array) => void): () => void;
  /** States as `PeerLink` reports them; 'disconnected', 'failed' and 'closed' end the channel. */
  onStateChange(handler: (state: string) => void): () => void;
  close(): void;
}

const TERMINAL = new Set(['disconnected', 'failed', 'closed']);

/** Limits of one inbox (every inbound frame is bounded before it is looked at). */
export interface InboxLimits {
  /** Largest inbound message. */
  readonly maxFrameBytes: number;
  /** Messages queued unread before the peer counts as flooding. */
  readonly maxQueued: number;
  /** Longest wait for the next message. */
  readonly timeoutMs: number;
}

/** Queues a channel's messages for `next()`; refuses oversized frames and floods. */
export class Inbox {
  readonly #queue: Uint8Array[] = [];
  #waiter: { resolve: (b: Uint8Array) => void; reject: (e: Error) => void } | undefined;
  #failure: DeviceError | undefined;
  readonly #unsubscribe: (() => void)[];

  constructor(
    channel: DeviceChannel,
    private readonly limits: InboxLimits,
    signal?: AbortSignal,
  ) {
    this.#unsubscribe = [
      channel.onMessage((bytes) => {
        if (this.#failure !== undefined) return;
        if (bytes.length > limits.maxFrameBytes)
          return this.fail(
            new DeviceError('PROTOCOL', `a frame of ${bytes.length} bytes exceeds ${limits.maxFrameBytes}`),
          );
        if (this.#waiter !== undefined) {
          const w = this.#waiter;
          this.#waiter = undefined;
          w.resolve(bytes);
          return;
        }
        if (this.#queue.length >= limits.maxQueued)
          return this.fail(new DeviceError('PROTOCOL', 'the other device sent too many frames unread'));
        this.#queue.push(bytes);
      }),
      channel.onStateChange((state) => {
        if (TERMINAL.has(state))
          this.fail(new DeviceError('CHANNEL_CLOSED', 'The connection to the other device ended.'));
      }),
    ];
    if (signal !== undefined) {
      const onAbort = (): void => this.fail(new DeviceError('ABORTED', 'Linking was cancelled.'));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      this.#unsubscribe.push(() => signal.removeEventListener('abort', onAbort));
    }
  }

  /** Ends the inbox with `error`: the pending and every later `next()` reject with it. */
  fail(error: DeviceError): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.reject(error);
  }

  /** The next message; rejects CHANNEL_CLOSED on a silent peer after `timeoutMs`. */
  async next(): Promise<Uint8Array> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return queued;
    if (this.#failure !== undefined) throw this.#failure;
    return await new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(new DeviceError('CHANNEL_CLOSED', 'The other device stopped answering.'));
      }, this.limits.timeoutMs);
      this.#waiter = {
        resolve: (b) => {
          clearTimeout(timer);
          resolve(b);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  /** Stops listening to the channel. */
  dispose(): void {
    for (const u of this.#unsubscribe) u();
  }
}

/** Sends on `channel`; a send the channel refuses (it closed) is DeviceError CHANNEL_CLOSED. */
export async function sendOn(channel: DeviceChannel, bytes: Uint8Array): Promise<void> {
  try {
    await channel.send(bytes);
  } catch (e) {
    throw new DeviceError('CHANNEL_CLOSED', 'The connection to the other device ended.', { cause: e });
  }
}

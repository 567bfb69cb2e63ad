/**
 * One device's view of one group's encryption (docs/groups.md §4): its own sender key, the
 * sender keys other member devices handed it, and the rules of when its own key is replaced.
 *
 * Before each message the device compares the devices its key was handed to with the devices of
 * the current members (`log.state` and each member's device list). Anyone gone, a person removed
 * or one of their devices unlisted, means a fresh key handed to the current devices only, so the
 * one gone cannot read what follows; a device that is new gets the key at its current iteration,
 * from which no earlier message key can be derived. The key is also replaced after
 * `maxMessages` messages or `maxAgeMs`, and each replacement travels over the pairwise sessions,
 * whose Double Ratchet heals after a compromise: so the group heals too (docs/groups.md §4).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, equalBytes, randomBytes } from '../../util/bytes.ts';
import type { Ed25519PublicKey } from '../identity/keys.ts';
import type { DeviceKey } from '../devices/device-list.ts';
import { decodeGroupContent, encodeGroupContent, type GroupContent } from './content.ts';
import { decodeDistribution, encodeDistribution } from './distribution.ts';
import { GroupError } from './errors.ts';
import { frameTag, openFrame, sealFrame } from './frame.ts';
import type { GroupLog } from './log.ts';
import { notificationKey } from './notify.ts';
import { NOTIFY_WINDOW, ReceivingChain, SendingChain } from './sender-key.ts';

/** One device of one member. */
export interface MemberDevice {
  readonly person: Ed25519PublicKey;
  readonly device: DeviceKey;
}

/** What the group core needs from the rest of the client. */
export interface GroupPorts {
  /**
   * Seals `distribution` under the pairwise session with `to` and queues it like any envelope
   * to that device (the direct link, or the next chain batch to that person).
   */
  sendPairwise(to: MemberDevice, distribution: Uint8Array): void;
  /** The devices that speak for `person` (its verified device list, `devicesOf`). */
  devicesOf(person: Ed25519PublicKey): readonly DeviceKey[];
  /** Unix ms. */
  now(): number;
}

/** When a device replaces its own sender key besides membership changes. */
export interface RotationPolicy {
  /** Messages under one key (default 1,000). */
  readonly maxMessages: number;
  /** Age of one key in ms (default 7 days, the pre-key rotation period of docs/crypto.md §1). */
  readonly maxAgeMs: number;
}

export const DEFAULT_ROTATION: RotationPolicy = { maxMessages: 1000, maxAgeMs: 7 * 24 * 3600 * 1000 };
/** Generations of one sender's key kept, the newest and the one before (frames in flight). */
const KEPT_GENERATIONS = 2;

interface OwnKey {
  readonly generation: number;
  readonly chain: SendingChain;
  readonly signingSecret: Uint8Array;
  readonly signingKey: Ed25519PublicKey;
  readonly createdAt: number;
  readonly sharedWith: Set<string>;
}

interface HeldKey {
  readonly from: MemberDevice;
  readonly generation: number;
  readonly chain: ReceivingChain;
  readonly signingKey: Ed25519PublicKey;
  readonly notifyKey: Uint8Array;
}

/** A group frame this device sealed, with the key its one notification coin goes to. */
export interface SealedGroupFrame {
  readonly frame: Uint8Array;
  /** x-only key of the notification address (docs/groups.md §5). */
  readonly notificationKey: Uint8Array;
  /** Distributions this message needed first (a rotation or a new device), already handed to the port. */
  readonly distributed: number;
}

/** A group frame opened. */
export interface OpenedGroupFrame {
  readonly sender: MemberDevice;
  readonly generation: number;
  readonly iteration: number;
  readonly content: GroupContent;
  /** Bytes of the frame (it may be followed by other frames of a batch). */
  readonly length: number;
}

const deviceHex = (d: MemberDevice): string => bytesToHex(d.device);

/** Sender keys of one device in one group. */
export class GroupSession {
  private own: OwnKey | undefined;
  private generation = 0;
  private readonly held = new Map<string, HeldKey[]>();

  constructor(
    readonly log: GroupLog,
    private readonly self: MemberDevice,
    /** x-only secp256k1 key this device's notification addresses are tweaked from. */
    private readonly notifyKey: Uint8Array,
    private readonly ports: GroupPorts,
    private readonly policy: RotationPolicy = DEFAULT_ROTATION,
  ) {}

  /** The other member devices a message goes to now (every device of every member but this one). */
  recipients(): MemberDevice[] {
    const out: MemberDevice[] = [];
    for (const m of this.log.state.members.values())
      for (const device of this.ports.devicesOf(m.key))
        if (!equalBytes(device, this.self.device)) out.push({ person: m.key, device });
    return out;
  }

  /**
   * Seals `content` as one frame for every member: replaces or hands out the own sender key
   * first where the members changed (module doc). GroupError NOT_MEMBER / REMOVED_MEMBER when
   * this device's person is not a member any more.
   */
  seal(content: GroupContent): SealedGroupFrame {
    this.requireMember(this.self);
    const recipients = this.recipients();
    const now = this.ports.now();
    const current = new Set(recipients.map(deviceHex));
    let own = this.own;
    if (
      own === undefined ||
      [...own.sharedWith].some((d) => !current.has(d)) ||
      own.chain.iteration >= this.policy.maxMessages ||
      now - own.createdAt >= this.policy.maxAgeMs
    )
      own = this.rotate(now);
    let distributed = 0;
    for (const to of recipients) {
      if (own.sharedWith.has(deviceHex(to))) continue;
      this.ports.sendPairwise(
        to,
        encodeDistribution({
          groupId: this.log.groupId,
          generation: own.generation,
          iteration: own.chain.iteration,
          chainKey: own.chain.chainKey(),
          signingKey: own.signingKey,
          notifyKey: this.notifyKey,
        }),
      );
      own.sharedWith.add(deviceHex(to));
      distributed++;
    }
    const { keys } = own.chain.next(this.log.groupId);
    const frame = sealFrame(this.log.groupId, keys, own.signingSecret, encodeGroupContent(content));
    return { frame, notificationKey: notificationKey(this.notifyKey, keys), distributed };
  }

  /**
   * Takes a sender key handed over by `from` through its pairwise session. DecodeError for bytes
   * that are not one; GroupError WRONG_GROUP, NOT_MEMBER (a stranger, or a device its person does
   * not list), REMOVED_MEMBER, STALE_KEY (a generation older than the ones kept). The same
   * generation again changes nothing.
   */
  acceptDistribution(from: MemberDevice, bytes: Uint8Array): void {
    const d = decodeDistribution(bytes);
    if (!equalBytes(d.groupId, this.log.groupId))
      throw new GroupError('WRONG_GROUP', 'This sender key belongs to another group.');
    this.requireMember(from);
    const kept = this.held.get(deviceHex(from)) ?? [];
    if (kept.some((k) => k.generation === d.generation)) return;
    const newest = kept[0];
    if (newest !== undefined && d.generation < newest.generation)
      throw new GroupError('STALE_KEY', 'This sender key is older than the one kept.');
    const next: HeldKey = {
      from,
      generation: d.generation,
      chain: new ReceivingChain(this.log.groupId, d.chainKey, d.iteration),
      signingKey: d.signingKey,
      notifyKey: d.notifyKey,
    };
    this.held.set(deviceHex(from), [next, ...kept].slice(0, KEPT_GENERATIONS));
  }

  /**
   * Opens the group frame at the start of `bytes`, or undefined when no held key expects its
   * tag (another group's frame, one sealed before this device got the key, a second copy).
   * GroupError REMOVED_MEMBER / NOT_MEMBER when the sender is no longer a member (nothing is used
   * up), BAD_SIGNATURE, DECRYPT_FAILED; DecodeError for a malformed frame or content.
   */
  open(bytes: Uint8Array): OpenedGroupFrame | undefined {
    const tag = frameTag(bytes);
    for (const keys of this.held.values())
      for (const k of keys) {
        const iteration = k.chain.find(tag);
        if (iteration === undefined) continue;
        this.requireMember(k.from);
        const mk = k.chain.peek(iteration);
        if (mk === undefined) continue;
        const { content, length } = openFrame(this.log.groupId, mk, k.signingKey, bytes);
        k.chain.consume(iteration);
        return {
          sender: k.from,
          generation: k.generation,
          iteration,
          content: decodeGroupContent(content),
          length,
        };
      }
    return undefined;
  }

  /** Tags of every frame this device expects next (for a batch reader's lookup table). */
  expectedTags(): Uint8Array[] {
    return [...this.held.values()].flatMap((ks) => ks.flatMap((k) => k.chain.expected().map((m) => m.tag)));
  }

  /** x-only keys of the notification addresses this device watches (`NOTIFY_WINDOW` per held key). */
  watchedKeys(): Uint8Array[] {
    return [...this.held.values()].flatMap((ks) =>
      ks.flatMap((k) => k.chain.ahead(NOTIFY_WINDOW).map((m) => notificationKey(k.notifyKey, m))),
    );
  }

  private rotate(now: number): OwnKey {
    const signingSecret = ed25519.utils.randomSecretKey();
    this.own = {
      generation: ++this.generation,
      chain: new SendingChain(randomBytes(32)),
      signingSecret,
      signingKey: ed25519.getPublicKey(signingSecret) as Ed25519PublicKey,
      createdAt: now,
      sharedWith: new Set(),
    };
    return this.own;
  }

  private requireMember(who: MemberDevice): void {
    const hex = bytesToHex(who.person);
    const state = this.log.state;
    if (!state.members.has(hex))
      throw state.gone.has(hex)
        ? new GroupError('REMOVED_MEMBER', 'This person is no longer a member of the group.')
        : new GroupError('NOT_MEMBER', 'This person is not a member of the group.');
    if (!this.ports.devicesOf(who.person).some((d) => equalBytes(d, who.device)))
      throw new GroupError('NOT_MEMBER', "This device is not in its person's device list.");
  }
}

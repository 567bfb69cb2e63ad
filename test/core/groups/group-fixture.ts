/** A group of test members whose sender keys travel over a recorded in-memory pairwise port. */
import { schnorr } from '@noble/curves/secp256k1.js';
import { Identity } from '../../../src/core/identity/identity.ts';
import type { Ed25519PublicKey } from '../../../src/core/identity/keys.ts';
import {
  GroupLog,
  GroupSession,
  type GroupPorts,
  type LaterOp,
  type MemberDevice,
} from '../../../src/core/groups/index.ts';
import { bytesToHex, equalBytes } from '../../../src/util/bytes.ts';

export const T0 = 1_800_000_000_000;

/** A member device: the person's identity doubles as its one device (devices.md §2). */
export interface Member {
  readonly identity: Identity;
  readonly self: MemberDevice;
  readonly session: GroupSession;
  /** Distributions handed to this member, as the pairwise session would carry them. */
  readonly inbox: { from: MemberDevice; bytes: Uint8Array }[];
}

/** `n` people, the first the creator (admin) of a group with the others as members. */
export class TestGroup {
  readonly clock = { now: T0 };
  readonly members: Member[] = [];
  private readonly genesis: Uint8Array[];

  constructor(n: number, outsiders = 0) {
    const ids = Array.from({ length: n + outsiders }, () => Identity.generate());
    const creator = ids[0] as Identity;
    const log = GroupLog.create(
      creator,
      'test',
      ids.slice(1, n).map((i) => i.publicKey),
      T0,
    );
    this.genesis = log.export();
    for (const identity of ids) this.members.push(this.join(identity));
  }

  private join(identity: Identity): Member {
    const [first, ...rest] = this.genesis;
    const log = GroupLog.fromGenesis(first as Uint8Array);
    for (const c of rest) log.receive(c);
    const self = { person: identity.publicKey, device: identity.publicKey };
    const inbox: Member['inbox'] = [];
    const ports: GroupPorts = {
      sendPairwise: (to, bytes) => this.byDevice(to.device).inbox.push({ from: self, bytes }),
      devicesOf: (person: Ed25519PublicKey) => [person],
      now: () => this.clock.now,
    };
    const notifyKey = schnorr.getPublicKey(schnorr.utils.randomSecretKey());
    return { identity, self, session: new GroupSession(log, self, notifyKey, ports), inbox };
  }

  byDevice(device: Uint8Array): Member {
    const m = this.members.find((x) => equalBytes(x.self.device, device));
    if (m === undefined) throw new Error(`no member device ${bytesToHex(device)}`);
    return m;
  }

  /** Member `i` makes a change, which reaches the logs of `to` (default: every device). */
  change(i: number, op: LaterOp, to: readonly number[] = this.members.map((_, j) => j)): void {
    const m = this.members[i] as Member;
    const change = m.session.log.author(m.identity, op, ++this.clock.now);
    for (const j of to) if (j !== i) (this.members[j] as Member).session.log.receive(change.serialize());
  }

  /** Every queued distribution taken by its recipient. */
  deliverKeys(): void {
    for (const m of this.members)
      for (let d = m.inbox.shift(); d !== undefined; d = m.inbox.shift())
        m.session.acceptDistribution(d.from, d.bytes);
  }
}

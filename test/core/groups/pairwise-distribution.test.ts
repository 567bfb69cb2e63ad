import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { schnorr } from '@noble/curves/secp256k1.js';
import {
  GroupLog,
  GroupSession,
  type GroupPorts,
  type MemberDevice,
} from '../../../src/core/groups/index.ts';
import { peerIdFromPublicKey } from '../../../src/core/identity/peer-id.ts';
import { bytesToUtf8, equalBytes, utf8ToBytes } from '../../../src/util/bytes.ts';
import { makeUser, type TestUser } from '../helpers.ts';

describe('sender keys over the pairwise sessions', () => {
  it('distributions travel as Double Ratchet frames and the receiver learns the sender from the session', () => {
    const users = ['alice', 'bob', 'carol'].map((n) => makeUser(n));
    for (const a of users) for (const b of users) if (a !== b) a.sessions.addContact(b.card);
    const [alice] = users as [TestUser];
    const log = GroupLog.create(
      alice.identity,
      'real',
      users.slice(1).map((u) => u.identity.publicKey),
      1_760_000_000_000,
    );
    const wire: { to: TestUser; frame: Uint8Array }[] = [];
    const sessionOf = (u: TestUser): GroupSession => {
      const self: MemberDevice = { person: u.identity.publicKey, device: u.identity.publicKey };
      const ports: GroupPorts = {
        sendPairwise: (to, bytes) => {
          const peer = users.find((x) => equalBytes(x.identity.publicKey, to.device)) as TestUser;
          wire.push({ to: peer, frame: u.sessions.encrypt(peerIdFromPublicKey(to.device), bytes) });
        },
        devicesOf: (p) => [p],
        now: () => u.clock.now,
      };
      const copy = GroupLog.fromGenesis(log.export()[0] as Uint8Array);
      return new GroupSession(copy, self, schnorr.getPublicKey(schnorr.utils.randomSecretKey()), ports);
    };
    const groups = new Map(users.map((u) => [u, sessionOf(u)]));
    const sealed = (groups.get(alice) as GroupSession).seal({
      kind: 'envelope',
      bytes: utf8ToBytes('over sessions'),
    });
    assert.equal(wire.length, 2);
    for (const { to, frame } of wire) {
      const r = to.sessions.decrypt(frame);
      assert.equal(r.kind, 'message');
      if (r.kind !== 'message') continue;
      const from = { person: r.card.identityKey, device: r.card.identityKey };
      const g = groups.get(to) as GroupSession;
      g.acceptDistribution(from, r.plaintext);
      const opened = g.open(sealed.frame);
      assert.equal(opened && bytesToUtf8(opened.content.bytes), 'over sessions');
    }
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Identity } from '../../../src/core/identity/identity.ts';
import {
  GroupError,
  GroupSession,
  encodeDistribution,
  notificationSecret,
  sealFrame,
  messageKeys,
  chainStep,
  type GroupContent,
} from '../../../src/core/groups/index.ts';
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToUtf8, equalBytes, utf8ToBytes } from '../../../src/util/bytes.ts';
import { errorCode } from '../helpers.ts';
import { TestGroup, type Member } from './group-fixture.ts';

const text = (s: string): GroupContent => ({ kind: 'envelope', bytes: utf8ToBytes(s) });
const said = (m: Member, frame: Uint8Array): string | undefined => {
  const opened = m.session.open(frame);
  return opened === undefined ? undefined : bytesToUtf8(opened.content.bytes);
};

describe('group sender keys', () => {
  it('one frame for the whole group opens on every member device, once', () => {
    const g = new TestGroup(5);
    const [alice, ...others] = g.members as [Member, ...Member[]];
    const sealed = alice.session.seal(text('hello all'));
    assert.equal(sealed.distributed, 4);
    g.deliverKeys();
    for (const m of others) assert.equal(said(m, sealed.frame), 'hello all');
    // A second copy (direct link and chain) is not opened twice.
    for (const m of others) assert.equal(m.session.open(sealed.frame), undefined);
    // The next message needs no distribution, and frames out of order still open.
    const a = alice.session.seal(text('one'));
    const b = alice.session.seal(text('two'));
    assert.equal(a.distributed + b.distributed, 0);
    for (const m of others) {
      assert.equal(said(m, b.frame), 'two');
      assert.equal(said(m, a.frame), 'one');
    }
  });

  it('a removed member cannot read any message sent after the removal', () => {
    const g = new TestGroup(5);
    const [alice, bob, , , eve] = g.members as [Member, Member, Member, Member, Member];
    const before = bob.session.seal(text('before'));
    g.deliverKeys();
    assert.equal(said(eve, before.frame), 'before');
    // Alice removes Eve; Eve's own device is told too (the worst case: it knows it was removed,
    // and it still holds every key it was given).
    g.change(0, { kind: 'remove', member: eve.self.person });
    const after = bob.session.seal(text('after'));
    assert.equal(after.distributed, 3, 'a fresh key went to the three members left, not to Eve');
    g.deliverKeys();
    assert.equal(eve.inbox.length, 0);
    assert.equal(eve.session.open(after.frame), undefined);
    for (const m of [alice, g.members[2] as Member, g.members[3] as Member])
      assert.equal(said(m, after.frame), 'after');
    // Alice's next message is under a fresh key too.
    assert.equal(alice.session.seal(text('x')).distributed, 3);
  });

  it('a member added later cannot read messages sent before it joined', () => {
    const g = new TestGroup(3, 1);
    const [alice, bob, , frank] = g.members as [Member, Member, Member, Member];
    const early = [alice.session.seal(text('m1')), alice.session.seal(text('m2'))];
    g.deliverKeys();
    g.change(0, { kind: 'add', members: [frank.self.person] });
    const late = alice.session.seal(text('m3'));
    assert.equal(late.distributed, 1, 'only Frank needed the key, at its current iteration');
    g.deliverKeys();
    for (const e of early) assert.equal(frank.session.open(e.frame), undefined);
    assert.equal(said(frank, late.frame), 'm3');
    assert.equal(said(bob, late.frame), 'm3');
  });

  it('refuses messages and keys of removed members and strangers, and forged frames', () => {
    const g = new TestGroup(4, 1);
    const [alice, bob, carol, dan, mallory] = g.members as [Member, Member, Member, Member, Member];
    dan.session.seal(text('hi'));
    bob.session.seal(text('hi'));
    g.deliverKeys();
    g.change(0, { kind: 'remove', member: dan.self.person }, [0, 1, 2]);
    // Dan, not told, sends under the key the others still hold: refused by name, not read.
    const fromDan = dan.session.seal(text('still here'));
    assert.equal(
      errorCode(() => alice.session.open(fromDan.frame), GroupError),
      'REMOVED_MEMBER',
    );
    // A removed member's or a stranger's sender key.
    const key = encodeDistribution({
      groupId: alice.session.log.groupId,
      generation: 9,
      iteration: 0,
      chainKey: new Uint8Array(32),
      signingKey: Identity.generate().publicKey,
      notifyKey: new Uint8Array(32),
    });
    assert.equal(
      errorCode(() => alice.session.acceptDistribution(dan.self, key), GroupError),
      'REMOVED_MEMBER',
    );
    assert.equal(
      errorCode(() => alice.session.acceptDistribution(mallory.self, key), GroupError),
      'NOT_MEMBER',
    );
    // A stranger cannot send: its session refuses to seal.
    assert.equal(
      errorCode(() => mallory.session.seal(text('x')), GroupError),
      'NOT_MEMBER',
    );
    // An altered frame of a current member.
    const next = bob.session.seal(text('real'));
    g.deliverKeys();
    const forged = next.frame.slice();
    forged[forged.length - 1]! ^= 1;
    assert.equal(
      errorCode(() => carol.session.open(forged), GroupError),
      'BAD_SIGNATURE',
    );
    assert.equal(said(carol, next.frame), 'real', 'nothing was used up by the refusal');
  });

  it('a member holding the chain key cannot write as its sender', () => {
    const g = new TestGroup(3);
    const [alice, bob, carol] = g.members as [Member, Member, Member];
    // Carol learns Bob's chain key at iteration 0 from the distribution she is handed.
    bob.session.seal(text('first'));
    const dist = carol.inbox.find((d) => equalBytes(d.from.device, bob.self.device));
    assert.ok(dist);
    g.deliverKeys();
    const chainKey = dist.bytes.slice(1 + 32 + 8, 1 + 32 + 8 + 32);
    const { next } = chainStep(chainKey);
    const keys = messageKeys(chainStep(next).mk, alice.session.log.groupId);
    const forged = sealFrame(
      alice.session.log.groupId,
      keys,
      schnorr.utils.randomSecretKey(),
      new Uint8Array(64),
    );
    assert.equal(
      errorCode(() => alice.session.open(forged), GroupError),
      'BAD_SIGNATURE',
    );
  });

  it('rotates after maxMessages and after maxAgeMs, handing the new key to every member', () => {
    const g = new TestGroup(3);
    const alice = g.members[0] as Member;
    const s = new GroupSession(
      alice.session.log,
      alice.self,
      schnorr.getPublicKey(schnorr.utils.randomSecretKey()),
      { sendPairwise: () => undefined, devicesOf: (p) => [p], now: () => g.clock.now },
      { maxMessages: 3, maxAgeMs: 1000 },
    );
    const counts = [0, 1, 2, 3].map(() => s.seal(text('m')).distributed);
    assert.deepEqual(counts, [2, 0, 0, 2]);
    g.clock.now += 1000;
    assert.equal(s.seal(text('m')).distributed, 2);
  });

  it('the notification address: members compute the key the sender alone can spend', () => {
    const g = new TestGroup(3);
    const [alice, bob] = g.members as [Member, Member];
    const secret = schnorr.utils.randomSecretKey();
    const notifyKey = schnorr.getPublicKey(secret);
    const sent: Uint8Array[] = [];
    const s = new GroupSession(alice.session.log, alice.self, notifyKey, {
      sendPairwise: (_to, bytes) => sent.push(bytes),
      devicesOf: (p) => [p],
      now: () => g.clock.now,
    });
    const sealed = s.seal(text('n'));
    bob.session.acceptDistribution(alice.self, sent[0] as Uint8Array);
    const watched = bob.session.watchedKeys();
    assert.ok(
      watched.some((k) => equalBytes(k, sealed.notificationKey)),
      'Bob watches the address',
    );
    // The sender spends it: the tweaked secret's x-only key is the address key.
    const keys = messageKeys(
      chainStep(sent[0]!.slice(1 + 32 + 8, 1 + 32 + 8 + 32)).mk,
      alice.session.log.groupId,
    );
    assert.ok(equalBytes(schnorr.getPublicKey(notificationSecret(secret, keys)), sealed.notificationKey));
  });
});

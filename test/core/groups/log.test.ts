import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Identity } from '../../../src/core/identity/identity.ts';
import {
  GroupChange,
  GroupError,
  GroupLog,
  MAX_GROUP_MEMBERS,
  type GroupState,
  type LaterOp,
} from '../../../src/core/groups/index.ts';
import { bytesToHex } from '../../../src/util/bytes.ts';
import { errorCode } from '../helpers.ts';

const T0 = 1_800_000_000_000;
const people = (n: number): Identity[] => Array.from({ length: n }, () => Identity.generate());

/** Members as `hex:admin`, sorted, plus the name: what a person sees in the info view. */
function view(state: GroupState): string {
  const members = [...state.members.values()].map(
    (m) => `${bytesToHex(m.key).slice(0, 8)}:${m.admin ? 'A' : 'm'}`,
  );
  return `${state.name} [${members.sort().join(' ')}]`;
}

/** A copy of `log` as another member's device would build it from the exported changes. */
function copy(log: GroupLog): GroupLog {
  const [genesis, ...rest] = log.export();
  const other = GroupLog.fromGenesis(genesis as Uint8Array);
  for (const c of rest) other.receive(c);
  return other;
}

describe('group membership', () => {
  it('creates, adds, removes, promotes, renames and leaves, each device seeing one list', () => {
    const [alice, bob, carol, dan] = people(4) as [Identity, Identity, Identity, Identity];
    const log = GroupLog.create(alice, 'Climbing', [bob.publicKey], T0);
    assert.equal(log.state.members.size, 2);
    log.author(alice, { kind: 'add', members: [carol.publicKey, dan.publicKey] }, T0 + 1);
    log.author(alice, { kind: 'promote', member: bob.publicKey }, T0 + 2);
    log.author(bob, { kind: 'remove', member: dan.publicKey }, T0 + 3);
    log.author(bob, { kind: 'rename', name: 'Climbing club' }, T0 + 4);
    log.author(carol, { kind: 'leave' }, T0 + 5);
    assert.equal(log.state.name, 'Climbing club');
    assert.deepEqual(
      [...log.state.members.values()].map((m) => [bytesToHex(m.key), m.admin]),
      [
        [bytesToHex(alice.publicKey), true],
        [bytesToHex(bob.publicKey), true],
      ],
    );
    assert.equal(view(copy(log).state), view(log.state));
    // Dan comes back: a re-add of a removed member is allowed.
    log.author(alice, { kind: 'add', members: [dan.publicKey] }, T0 + 6);
    assert.ok(log.state.members.has(bytesToHex(dan.publicKey)));
  });

  it('refuses forged, non-admin, removed-member and other-group changes with typed errors', () => {
    const [alice, bob, carol, mallory] = people(4) as [Identity, Identity, Identity, Identity];
    const log = GroupLog.create(alice, 'g', [bob.publicKey, carol.publicKey], T0);
    const heads = () => log.heads().map((h) => ({ id: h.id, depth: h.depth }));
    const by = (who: Identity, op: LaterOp) =>
      GroupChange.next(who, log.groupId, heads(), T0 + 1, op).serialize();

    // Not an admin.
    assert.equal(
      errorCode(() => log.receive(by(bob, { kind: 'remove', member: carol.publicKey })), GroupError),
      'NOT_ADMIN',
    );
    assert.equal(
      errorCode(() => log.receive(by(bob, { kind: 'rename', name: 'x' })), GroupError),
      'NOT_ADMIN',
    );
    // Not a member at all.
    assert.equal(
      errorCode(() => log.receive(by(mallory, { kind: 'add', members: [mallory.publicKey] })), GroupError),
      'NOT_MEMBER',
    );
    // A forged admin action: Mallory's signature under Alice's name.
    const forged = by(mallory, { kind: 'add', members: [mallory.publicKey] });
    forged.set(alice.publicKey, 1 + 32);
    assert.equal(
      errorCode(() => log.receive(forged), GroupError),
      'BAD_SIGNATURE',
    );
    // A removed member's later change.
    log.author(alice, { kind: 'remove', member: carol.publicKey }, T0 + 2);
    assert.equal(
      errorCode(() => log.receive(by(carol, { kind: 'leave' })), GroupError),
      'REMOVED_MEMBER',
    );
    // Another group's change.
    const other = GroupLog.create(alice, 'other', [bob.publicKey], T0);
    const foreign = other.author(alice, { kind: 'rename', name: 'y' }, T0 + 1).serialize();
    assert.equal(
      errorCode(() => log.receive(foreign), GroupError),
      'WRONG_GROUP',
    );
    // The last admin cannot leave others without an admin, nor demote itself.
    assert.equal(
      errorCode(() => log.author(alice, { kind: 'leave' }, T0 + 3), GroupError),
      'LAST_ADMIN',
    );
    assert.equal(
      errorCode(() => log.author(alice, { kind: 'demote', member: alice.publicKey }, T0 + 3), GroupError),
      'LAST_ADMIN',
    );
    assert.equal(
      errorCode(() => log.author(alice, { kind: 'add', members: [bob.publicKey] }, T0 + 3), GroupError),
      'NO_CHANGE',
    );
    // Nothing refused was kept.
    assert.equal(view(log.state), view(copy(log).state));
    assert.equal(log.state.members.size, 2);
  });

  it('refuses a change that lies about its depth', () => {
    const [alice, bob] = people(2) as [Identity, Identity];
    const log = GroupLog.create(alice, 'g', [bob.publicKey], T0);
    const parent = log.heads()[0] as GroupChange;
    const lying = GroupChange.next(alice, log.groupId, [{ id: parent.id, depth: 5 }], T0, {
      kind: 'rename',
      name: 'x',
    });
    assert.equal(
      errorCode(() => log.receive(lying.serialize()), GroupError),
      'BAD_DEPTH',
    );
  });

  it('holds a change whose parents are missing and admits it once they arrive', () => {
    const [alice, bob, carol] = people(3) as [Identity, Identity, Identity];
    const log = GroupLog.create(alice, 'g', [bob.publicKey], T0);
    const peer = copy(log);
    const add = log.author(alice, { kind: 'add', members: [carol.publicKey] }, T0 + 1);
    const rename = log.author(carol, { kind: 'leave' }, T0 + 2);
    assert.equal(peer.receive(rename.serialize()).waiting, 1);
    const r = peer.receive(add.serialize());
    assert.equal(r.admitted.length, 2);
    assert.equal(r.waiting, 0);
    assert.equal(view(peer.state), view(log.state));
  });

  it('a removed admin racing the removal: the one total order decides, on every device', () => {
    const [alice, bob, carol, dan] = people(4) as [Identity, Identity, Identity, Identity];
    const a = GroupLog.create(alice, 'g', [bob.publicKey, carol.publicKey], T0);
    a.author(alice, { kind: 'promote', member: bob.publicKey }, T0 + 1);
    const b = copy(a);
    // Concurrent: Alice removes Bob while Bob removes Alice and adds Dan.
    const x = a.author(alice, { kind: 'remove', member: bob.publicKey }, T0 + 2);
    const y = b.author(bob, { kind: 'remove', member: alice.publicKey }, T0 + 2);
    const z = b.author(bob, { kind: 'add', members: [dan.publicKey] }, T0 + 3);
    a.receive(y.serialize());
    a.receive(z.serialize());
    b.receive(x.serialize());
    assert.equal(view(a.state), view(b.state));
    // Exactly one of the two mutual removals took effect, so an admin is left.
    const admins = [...a.state.members.values()].filter((m) => m.admin);
    assert.equal(admins.length, 1);
    assert.ok(a.history.some((h) => h.skipped === 'REMOVED_MEMBER' || h.skipped === 'NOT_MEMBER'));
  });

  it('holds 100 members, and refuses the one past the limit', () => {
    const creator = Identity.generate();
    const keys = Array.from({ length: 99 }, () => Identity.generate().publicKey);
    const log = GroupLog.create(creator, 'hundred', keys, T0);
    assert.equal(log.state.members.size, 100);
    assert.equal(view(copy(log).state), view(log.state));
    // The limit: a group of MAX - 1 takes two more in one change only to refuse it.
    const big = GroupLog.create(
      creator,
      'big',
      Array.from({ length: MAX_GROUP_MEMBERS - 1 }, () => Identity.generate().publicKey),
      T0,
    );
    assert.equal(big.state.members.size, MAX_GROUP_MEMBERS);
    const more = [Identity.generate().publicKey];
    assert.equal(
      errorCode(() => big.author(creator, { kind: 'add', members: more }, T0 + 1), GroupError),
      'MEMBER_LIMIT',
    );
  });

  it('converges to one member list on every device over random concurrent changes and deliveries', () => {
    const cast = people(6);
    const [alice, bob] = cast as [Identity, Identity];
    const pick = fc.integer({ min: 0, max: cast.length - 1 });
    const step = fc.oneof(
      fc.record({
        t: fc.constant('author' as const),
        who: pick,
        kind: fc.integer({ min: 0, max: 5 }),
        target: pick,
      }),
      fc.record({ t: fc.constant('sync' as const), from: pick, to: pick, seed: fc.integer() }),
    );
    fc.assert(
      fc.property(fc.array(step, { minLength: 5, maxLength: 40 }), fc.integer(), (steps, finalSeed) => {
        const genesis = GroupLog.create(
          alice,
          'g',
          cast.slice(1, 4).map((p) => p.publicKey),
          T0,
        );
        genesis.author(alice, { kind: 'promote', member: bob.publicKey }, T0);
        const devices = cast.map(() => copy(genesis));
        const all: Uint8Array[] = [];
        let t = T0;
        const shuffled = <T>(xs: T[], seed: number): T[] => {
          const out = xs.slice();
          let s = seed >>> 0;
          for (let i = out.length - 1; i > 0; i--) {
            s = (Math.imul(s, 1103515245) + 12345) >>> 0;
            const j = s % (i + 1);
            [out[i], out[j]] = [out[j] as T, out[i] as T];
          }
          return out;
        };
        for (const s of steps) {
          if (s.t === 'author') {
            const who = cast[s.who] as Identity;
            const target = (cast[s.target] as Identity).publicKey;
            const ops: LaterOp[] = [
              { kind: 'add', members: [target] },
              { kind: 'remove', member: target },
              { kind: 'promote', member: target },
              { kind: 'demote', member: target },
              { kind: 'rename', name: `n${t}` },
              { kind: 'leave' },
            ];
            try {
              all.push((devices[s.who] as GroupLog).author(who, ops[s.kind] as LaterOp, ++t).serialize());
            } catch (e) {
              if (!(e instanceof GroupError)) throw e;
            }
          } else {
            const from = devices[s.from] as GroupLog;
            const to = devices[s.to] as GroupLog;
            for (const c of shuffled(from.export(), s.seed)) to.receive(c);
          }
        }
        // Everything reaches every device, in an order of its own, and a fresh observer.
        const observer = copy(genesis);
        for (const [i, d] of [...devices, observer].entries())
          for (const c of shuffled(all, finalSeed + i)) d.receive(c);
        const seen = new Set([...devices, observer].map((d) => view(d.state)));
        assert.equal(seen.size, 1, [...seen].join('\n'));
        const admins = [...observer.state.members.values()].filter((m) => m.admin).length;
        assert.ok(
          observer.state.members.size === 0 || admins >= 1,
          'members are never left without an admin',
        );
      }),
      { numRuns: 25 },
    );
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bytesToHex, utf8ToBytes } from '../../../src/util/bytes.ts';
import { TestGroup, type Member } from './group-fixture.ts';

describe('group sender keys over random removals and adds', () => {
  it('every frame opens for exactly the members of its moment: never for one removed before, nor one added after', () => {
    const step = fc.oneof(
      fc.record({ t: fc.constant('send' as const), who: fc.integer({ min: 0, max: 6 }) }),
      fc.record({ t: fc.constant('remove' as const), who: fc.integer({ min: 1, max: 6 }) }),
      fc.record({ t: fc.constant('add' as const), who: fc.integer({ min: 1, max: 6 }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { minLength: 3, maxLength: 14 }), (steps) => {
        // Five members (0 is the admin) and two people outside the group.
        const g = new TestGroup(5, 2);
        const isMember = (m: Member): boolean =>
          g.members[0]!.session.log.state.members.has(bytesToHex(m.self.person));
        let sent = 0;
        for (const s of steps) {
          const m = g.members[s.who] as Member;
          if (s.t === 'remove' && isMember(m)) g.change(0, { kind: 'remove', member: m.self.person });
          if (s.t === 'add' && !isMember(m)) g.change(0, { kind: 'add', members: [m.self.person] });
          if (s.t !== 'send' || !isMember(m)) continue;
          const frame = m.session.seal({ kind: 'envelope', bytes: utf8ToBytes(`m${++sent}`) }).frame;
          g.deliverKeys();
          for (const other of g.members) {
            if (other === m) continue;
            const opened = other.session.open(frame);
            assert.equal(
              opened !== undefined,
              isMember(other),
              `frame m${sent} and ${bytesToHex(other.self.person).slice(0, 8)}`,
            );
          }
        }
      }),
      { numRuns: 8 },
    );
  });
});

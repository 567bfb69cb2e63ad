/**
 * Groups (docs/groups.md §5): chain cost of one group message at 5 / 20 / 100 members beside a
 * 1:1 message (payload bucket and relay fee, same run), the cost of a key rotation after a
 * removal (pairwise bytes, its publication and the time to seal it), and the time a member takes
 * to open a group frame.
 */
import { GroupError, type GroupContent } from '../src/core/groups/index.ts';
import { utf8ToBytes } from '../src/util/bytes.ts';
import { groupCostRows } from '../test/core/groups/group-cost.ts';
import { TestGroup, type Member } from '../test/core/groups/group-fixture.ts';
import { fmtMs, type Bench, type BenchRow } from './table.ts';

const content: GroupContent = { kind: 'envelope', bytes: utf8ToBytes('x'.repeat(100)) };

function rotationMs(n: number): { seal: number; open: number } {
  const g = new TestGroup(n);
  const [alice, bob, ...rest] = g.members as [Member, Member, ...Member[]];
  bob.session.seal(content);
  g.deliverKeys();
  g.change(0, { kind: 'remove', member: (rest.at(-1) as Member).self.person });
  const t0 = performance.now();
  const sealed = bob.session.seal(content);
  const seal = performance.now() - t0;
  g.deliverKeys();
  const t1 = performance.now();
  if (alice.session.open(sealed.frame) === undefined)
    throw new GroupError('DECRYPT_FAILED', 'bench frame did not open');
  return { seal, open: performance.now() - t1 };
}

const bench: Bench = async () => {
  const [single, ...groups] = groupCostRows();
  if (single === undefined) throw new Error('no 1:1 row');
  const rows: BenchRow[] = [];
  rotationMs(5); // warm-up: the first run pays the JIT
  for (const r of groups) {
    rows.push({
      name: `group message, ${r.members} members (100-char text)`,
      value: `${r.payloadBytes} B payload, ${r.fee} sompi`,
      reference: `1:1: ${single.payloadBytes} B, ${single.fee} sompi (${(Number(r.fee) / Number(single.fee)).toFixed(2)}x)`,
      note: `frame ${r.frameBytes} B once, no output per member`,
    });
  }
  for (const r of groups) {
    const t = rotationMs(r.members as number);
    rows.push({
      name: `key rotation after a removal, ${r.members} members`,
      value: `${r.rotationBytes} B pairwise, ${r.rotationPayload ?? '>32768'} B payload, ${r.rotationFee ?? '-'} sompi`,
      reference: `a message without rotation: ${r.fee} sompi`,
      note: `seal with rotation ${fmtMs(t.seal)} (pairwise sealing not included), first open after it ${fmtMs(t.open)}`,
    });
  }
  return Promise.resolve({ title: 'Groups: chain cost per message and per rotation', rows });
};

export default bench;

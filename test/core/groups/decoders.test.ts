import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Identity } from '../../../src/core/identity/identity.ts';
import {
  DISTRIBUTION_BYTES,
  GroupChange,
  GroupError,
  GroupLog,
  MAX_GROUP_CHANGE_BYTES,
  decodeDistribution,
  decodeGroupContent,
  encodeDistribution,
  encodeGroupContent,
} from '../../../src/core/groups/index.ts';
import { pad } from '../../../src/core/envelope/padding.ts';
import { ByteWriter } from '../../../src/util/binary.ts';
import { DecodeError } from '../../../src/util/errors.ts';
import { concatBytes, utf8ToBytes } from '../../../src/util/bytes.ts';
import { errorCode } from '../helpers.ts';
import { TestGroup, type Member } from './group-fixture.ts';

const T0 = 1_800_000_000_000;
const alice = Identity.generate();
const bob = Identity.generate();

/** A change signed the way `GroupChange` signs, with any body (to build hostile changes). */
function signed(body: Uint8Array, by: Identity = alice): Uint8Array {
  return concatBytes(body, by.sign(concatBytes(utf8ToBytes('p2pcomm/v1/group-change'), body)));
}

function header(
  opts: {
    version?: number;
    groupId?: Uint8Array;
    depth?: number;
    parents?: Uint8Array[];
    by?: Identity;
  } = {},
): ByteWriter {
  const parents = opts.parents ?? [];
  const w = new ByteWriter()
    .u8(opts.version ?? 1)
    .bytes(opts.groupId ?? new Uint8Array(32))
    .bytes((opts.by ?? alice).publicKey)
    .varUint(opts.depth ?? 0)
    .u8(parents.length);
  for (const p of parents) w.bytes(p);
  return w.u64(T0);
}

const create = (members: Uint8Array[], h = header()): Uint8Array => {
  const w = h.u8(1).bytes(new Uint8Array(16)).varBytes(utf8ToBytes('g')).u16(members.length);
  for (const m of members) w.bytes(m);
  return w.finish();
};
const P = new Uint8Array(32).fill(7);
const later = (h: ByteWriter): ByteWriter => h;

describe('group decoders refuse hostile input', () => {
  it('group change: a table of bad inputs, each refused with its code', () => {
    const good = signed(create([bob.publicKey]));
    assert.doesNotThrow(() => GroupChange.decode(good));
    const table: [string, Uint8Array, typeof DecodeError | typeof GroupError, string][] = [
      ['empty', new Uint8Array(0), DecodeError, 'TRUNCATED'],
      ['cut', good.subarray(0, good.length - 1), DecodeError, 'TRUNCATED'],
      ['trailing byte', concatBytes(good, Uint8Array.of(0)), DecodeError, 'TRAILING_BYTES'],
      ['too large', new Uint8Array(MAX_GROUP_CHANGE_BYTES + 1), DecodeError, 'TOO_LARGE'],
      ['version 0', signed(create([], header({ version: 0 }))), DecodeError, 'UNKNOWN_VERSION'],
      ['version 2', signed(create([], header({ version: 2 }))), DecodeError, 'UNKNOWN_VERSION'],
      ['unknown op 9', signed(header().u8(9).finish()), DecodeError, 'UNKNOWN_TYPE'],
      ['op 0', signed(header().u8(0).finish()), DecodeError, 'UNKNOWN_TYPE'],
      ['member twice', signed(create([bob.publicKey, bob.publicKey])), DecodeError, 'MALFORMED'],
      [
        '1,000 named besides the creator',
        signed(create(Array.from({ length: 1000 }, (_, i) => new Uint8Array(32).fill(i % 256)))),
        DecodeError,
        'MALFORMED',
      ],
      [
        'create with a parent',
        signed(create([], header({ parents: [P], depth: 1 }))),
        DecodeError,
        'MALFORMED',
      ],
      ['create with a group id', signed(create([], header({ groupId: P }))), DecodeError, 'MALFORMED'],
      ['create with depth 1', signed(create([], header({ depth: 1 }))), DecodeError, 'MALFORMED'],
      [
        'later change without parent',
        signed(
          later(header({ groupId: P, depth: 1 }))
            .u8(4)
            .finish(),
        ),
        DecodeError,
        'MALFORMED',
      ],
      [
        'parent twice',
        signed(
          header({ groupId: P, depth: 1, parents: [P, P] })
            .u8(4)
            .finish(),
        ),
        DecodeError,
        'MALFORMED',
      ],
      [
        '17 parents',
        signed(
          header({
            groupId: P,
            depth: 1,
            parents: Array.from({ length: 17 }, (_, i) => new Uint8Array(32).fill(i)),
          })
            .u8(4)
            .finish(),
        ),
        DecodeError,
        'MALFORMED',
      ],
      [
        'add of none',
        signed(
          header({ groupId: P, depth: 1, parents: [P] })
            .u8(2)
            .u16(0)
            .finish(),
        ),
        DecodeError,
        'MALFORMED',
      ],
      [
        'add of 101',
        signed(
          header({ groupId: P, depth: 1, parents: [P] })
            .u8(2)
            .u16(101)
            .finish(),
        ),
        DecodeError,
        'MALFORMED',
      ],
      [
        'name of 65 bytes',
        signed(
          header({ groupId: P, depth: 1, parents: [P] })
            .u8(7)
            .varBytes(new Uint8Array(65).fill(97))
            .finish(),
        ),
        DecodeError,
        'TOO_LARGE',
      ],
      [
        'name not UTF-8',
        signed(
          header({ groupId: P, depth: 1, parents: [P] })
            .u8(7)
            .varBytes(Uint8Array.of(0xff))
            .finish(),
        ),
        DecodeError,
        'MALFORMED',
      ],
      [
        'depth not minimal',
        signed(concatBytes(header().finish().subarray(0, 65), Uint8Array.of(0x80, 0x00))),
        DecodeError,
        'MALFORMED',
      ],
      ['signed by someone else', signed(create([]), bob), GroupError, 'BAD_SIGNATURE'],
      [
        'a signature bit flipped',
        good.map((b, i) => (i === good.length - 1 ? b ^ 1 : b)),
        GroupError,
        'BAD_SIGNATURE',
      ],
    ];
    for (const [name, bytes, type, code] of table)
      assert.equal(
        errorCode(() => GroupChange.decode(bytes), type),
        code,
        name,
      );
  });

  it('group change: random bytes and every truncation never throw anything but typed errors', () => {
    const log = GroupLog.create(alice, 'g', [bob.publicKey], T0);
    const bytes = log.author(alice, { kind: 'rename', name: 'renamed' }, T0 + 1).serialize();
    for (let n = 0; n < bytes.length; n++)
      assert.equal(
        errorCode(() => GroupChange.decode(bytes.subarray(0, n)), DecodeError),
        'TRUNCATED',
        `cut at ${n}`,
      );
    for (let i = 0; i < 200; i++) {
      const junk = crypto.getRandomValues(new Uint8Array(1 + (i % 200)));
      assert.throws(
        () => GroupChange.decode(junk),
        (e) => e instanceof DecodeError || e instanceof GroupError,
      );
    }
  });

  it('sender key distribution: bad inputs', () => {
    const good = encodeDistribution({
      groupId: new Uint8Array(32) as never,
      generation: 1,
      iteration: 0,
      chainKey: new Uint8Array(32),
      signingKey: alice.publicKey,
      notifyKey: new Uint8Array(32),
    });
    assert.equal(good.length, DISTRIBUTION_BYTES);
    const table: [string, Uint8Array, string][] = [
      ['empty', new Uint8Array(0), 'TRUNCATED'],
      ['cut', good.subarray(0, good.length - 1), 'TRUNCATED'],
      ['trailing', concatBytes(good, Uint8Array.of(1)), 'TRAILING_BYTES'],
      ['version 2', good.map((b, i) => (i === 0 ? 2 : b)), 'UNKNOWN_VERSION'],
    ];
    for (const [name, bytes, code] of table)
      assert.equal(
        errorCode(() => decodeDistribution(bytes), DecodeError),
        code,
        name,
      );
    assert.throws(
      () => encodeDistribution({ ...decodeDistribution(good), chainKey: new Uint8Array(31) }),
      RangeError,
    );
  });

  it('group content: bad inputs', () => {
    const round = decodeGroupContent(encodeGroupContent({ kind: 'change', bytes: Uint8Array.of(1, 2) }));
    assert.deepEqual([round.kind, [...round.bytes]], ['change', [1, 2]]);
    const table: [string, Uint8Array, string][] = [
      ['no padding mark', new Uint8Array(64), 'MALFORMED'],
      ['empty', pad(new Uint8Array(0)), 'TRUNCATED'],
      ['version 2', pad(Uint8Array.of(2, 1)), 'UNKNOWN_VERSION'],
      ['kind 3', pad(Uint8Array.of(1, 3)), 'UNKNOWN_TYPE'],
      ['kind 0', pad(Uint8Array.of(1, 0)), 'UNKNOWN_TYPE'],
    ];
    for (const [name, bytes, code] of table)
      assert.equal(
        errorCode(() => decodeGroupContent(bytes), DecodeError),
        code,
        name,
      );
  });

  it('group frame: cut, lengthened, bit-flipped and random frames are refused or not ours, never misread', () => {
    const g = new TestGroup(2);
    const [a, b] = g.members as [Member, Member];
    const frames = [0, 1, 2, 3, 4, 5].map(
      () => a.session.seal({ kind: 'envelope', bytes: utf8ToBytes('x'.repeat(40)) }).frame,
    );
    g.deliverKeys();
    const [f0, f1, f2, f3, f4] = frames as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    assert.equal(
      errorCode(() => b.session.open(f0.subarray(0, 7)), DecodeError),
      'TRUNCATED',
    );
    assert.equal(
      errorCode(() => b.session.open(f0.subarray(0, f0.length - 1)), DecodeError),
      'TRUNCATED',
    );
    const lengthFlip = f1.slice();
    lengthFlip[11]! ^= 0x80;
    assert.equal(
      errorCode(() => b.session.open(lengthFlip), DecodeError),
      'MALFORMED',
    );
    const small = f2.slice();
    small[8]! ^= 0x01;
    assert.ok(['TRUNCATED', 'MALFORMED'].includes(errorCode(() => b.session.open(small.subarray(0, 40)))));
    const ct = f3.slice();
    ct[20]! ^= 1;
    assert.equal(
      errorCode(() => b.session.open(ct), GroupError),
      'BAD_SIGNATURE',
    );
    // A frame followed by other bytes (a batch) opens with its own length.
    const opened = b.session.open(concatBytes(f4, new Uint8Array(50)));
    assert.equal(opened?.length, f4.length);
    for (let i = 0; i < 100; i++)
      assert.equal(b.session.open(crypto.getRandomValues(new Uint8Array(120))), undefined);
    // Nothing refused was used up: the untouched frames still open.
    for (const f of [f0, f1, f2, f3]) assert.ok(b.session.open(f));
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex, parseHex, randomBytes } from '../../src/util/bytes.ts';

test('parseHex decodes either case and gives back what bytesToHex wrote', () => {
  assert.deepEqual(parseHex(''), new Uint8Array(0));
  assert.deepEqual(parseHex('00ffAb7f'), Uint8Array.of(0, 255, 0xab, 0x7f));
  for (let n = 0; n < 64; n++) {
    const b = randomBytes(n);
    assert.deepEqual(parseHex(bytesToHex(b)), b);
    assert.deepEqual(parseHex(bytesToHex(b).toUpperCase()), b);
  }
});

test('parseHex refuses odd lengths and every character that is not a hex digit', () => {
  for (const bad of [
    '0',
    'abc',
    '0g',
    'g0',
    '0 ',
    ' 0',
    '+1',
    '-1',
    '0x',
    '0\u0130',
    '\u0130\u0130',
    '00\u00ff0',
    '\u{1F600}',
  ]) {
    assert.equal(parseHex(bad), undefined, JSON.stringify(bad));
  }
  // Every Latin-1 code unit beside a valid digit: exactly the 22 hex digits pass.
  let passed = 0;
  for (let c = 0; c < 0x100; c++) if (parseHex(`0${String.fromCharCode(c)}`) !== undefined) passed++;
  assert.equal(passed, 22);
});

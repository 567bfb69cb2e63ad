import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TransportError } from '../../src/transport/errors.ts';
import {
  MAX_SDP_BYTES,
  decodeSignal,
  encodeSignal,
  isMdnsCandidate,
  parseSignal,
  remoteMaxMessageSize,
  stripCandidates,
  stripMdnsCandidates,
} from '../../src/transport/signaling.ts';
import type { Signal } from '../../src/transport/types.ts';
import { errorCode } from '../core/helpers.ts';

/** A data-channel offer as werift writes it (ICE credentials and fingerprint shortened). */
const SDP = [
  'v=0',
  'o=- 11555514 0 IN IP4 0.0.0.0',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 0.0.0.0',
  'a=candidate:626da4e5384a0ce2d0d93678a 1 udp 2116026367 127.0.0.1 46992 typ host generation 0 ufrag 5cf7',
  'a=candidate:1 1 udp 2122260223 1f0e5a3b-2c4d-4e6f-8a9b-0c1d2e3f4a5b.local 50000 typ host',
  'a=end-of-candidates',
  'a=ice-ufrag:5cf7',
  'a=ice-pwd:dd2f07b36440f551fb2189',
  'a=fingerprint:sha-256 9B:3B:C6:65:BC:44:C2:66:DB:D3:14:A3:9F:3E:52:A0:9A:F0:3F:24:26:6B:29:CB:4E:04:9F:37:B2:95:BB:30',
  'a=setup:actpass',
  'a=mid:0',
  'a=sctp-port:5000',
  'a=max-message-size:65536',
  '',
].join('\r\n');

const CANDIDATE =
  'candidate:626da4e5384a0ce2d0d93678a 1 udp 2116026367 127.0.0.1 46992 typ host generation 0';

const code = (fn: () => unknown): string => errorCode(fn, TransportError);

describe('transport signaling', () => {
  it('encodes and decodes offers, answers and candidates', () => {
    const signals: Signal[] = [
      { type: 'offer', sdp: SDP },
      { type: 'answer', sdp: SDP },
      { type: 'candidate', candidate: CANDIDATE, sdpMid: '0' },
      { type: 'candidate', candidate: CANDIDATE, sdpMid: null },
    ];
    for (const s of signals) assert.deepEqual(decodeSignal(encodeSignal(s)), s);
    // Smaller than the JSON a signaling server would carry.
    const offer = signals[0]!;
    assert.ok(encodeSignal(offer).length < JSON.stringify(offer).length);
  });

  it('refuses malformed signals with SIGNALING_INVALID', () => {
    const bad: unknown[] = [
      null,
      42,
      { type: 'offer' },
      { type: 'offer', sdp: SDP.replace('v=0', 'v=1') },
      { type: 'offer', sdp: SDP.replace(/a=ice-pwd:.*\r\n/, '') },
      { type: 'offer', sdp: SDP.replace(/a=fingerprint:.*\r\n/, '') },
      { type: 'offer', sdp: SDP.replace('m=application 9 UDP/DTLS/SCTP', 'm=audio 9 RTP/AVP') },
      { type: 'offer', sdp: SDP + 'a=x\u0000\r\n' },
      { type: 'offer', sdp: SDP + 'a=x'.repeat(MAX_SDP_BYTES) },
      { type: 'pranswer', sdp: SDP },
      { type: 'candidate', candidate: 'candidate:1 1 udp', sdpMid: '0' },
      { type: 'candidate', candidate: CANDIDATE, sdpMid: 'a b' },
      { type: 'candidate', candidate: CANDIDATE },
    ];
    for (const value of bad)
      assert.equal(
        code(() => parseSignal(value)),
        'SIGNALING_INVALID',
        JSON.stringify(value),
      );
  });

  it('decodes arbitrary bytes to a valid signal or SIGNALING_INVALID, nothing else', () => {
    const valid = encodeSignal({ type: 'candidate', candidate: CANDIDATE, sdpMid: '0' });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
            const m = valid.slice();
            m[i] = m[i]! ^ x;
            return m;
          }),
          fc.nat(valid.length - 1).map((n) => valid.subarray(0, n)),
        ),
        (bytes) => {
          const c = code(() => decodeSignal(bytes));
          assert.ok(c === 'none' || c === 'SIGNALING_INVALID');
        },
      ),
    );
    assert.equal(
      code(() => decodeSignal(Uint8Array.of(2, 1, 0))),
      'SIGNALING_INVALID',
    ); // unknown version
    assert.equal(
      code(() => decodeSignal(Uint8Array.of(1, 9, 0))),
      'SIGNALING_INVALID',
    ); // unknown tag
    assert.equal(
      code(() => decodeSignal(Uint8Array.of(...valid, 0))),
      'SIGNALING_INVALID',
    ); // trailing
  });

  it('reads a=max-message-size per RFC 8841 §6', () => {
    assert.equal(remoteMaxMessageSize(SDP), 65536);
    assert.equal(remoteMaxMessageSize(SDP.replace('65536', '262144')), 262144);
    assert.equal(remoteMaxMessageSize(SDP.replace('a=max-message-size:65536\r\n', '')), 65536);
    assert.equal(remoteMaxMessageSize(SDP.replace('65536', '0')), Number.MAX_SAFE_INTEGER);
  });

  it('strips candidates for trickle and mDNS candidates for runtimes that cannot resolve them', () => {
    assert.doesNotMatch(stripCandidates(SDP), /a=candidate|a=end-of-candidates/);
    const { sdp, removed } = stripMdnsCandidates(SDP);
    assert.equal(removed, 1);
    assert.match(sdp, /127\.0\.0\.1/);
    assert.doesNotMatch(sdp, /\.local/);
    assert.equal(isMdnsCandidate(CANDIDATE), false);
    assert.equal(isMdnsCandidate('candidate:1 1 udp 1 abc.LOCAL 5 typ host'), true);
  });
});

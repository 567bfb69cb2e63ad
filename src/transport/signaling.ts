/**
 * Checks and encodes the signaling values the engine carries between devices. Everything
 * from the peer is hostile input: it is validated here, before any WebRTC stack sees it, so
 * a bad value fails with `SIGNALING_INVALID` instead of whatever the stack would throw.
 */
import { ByteReader, ByteWriter } from '../util/binary.ts';
import { bytesToUtf8, utf8ToBytes } from '../util/bytes.ts';
import { TransportError } from './errors.ts';
import type { Signal, SignalAnswer, SignalCandidate, SignalOffer } from './types.ts';

/** Largest SDP accepted; a data-only session with a dozen candidates is about 1.5 KB. */
export const MAX_SDP_BYTES = 8192;
/** Largest candidate attribute accepted (RFC 8839 §5.1 candidates are well under 256 bytes). */
export const MAX_CANDIDATE_BYTES = 512;
const MAX_MID_BYTES = 32;

/** Version byte of the binary signal encoding. */
const SIGNAL_VERSION = 1;
const TAG = { offer: 1, answer: 2, candidate: 3 } as const;

function invalid(message: string, cause?: unknown): TransportError {
  return new TransportError('SIGNALING_INVALID', message, cause === undefined ? undefined : { cause });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * Structural check of a session description: a data-channel session (RFC 8841) with the
 * ICE credentials (RFC 8839 §5.4) and DTLS fingerprint (RFC 8122 §5) that ICE and DTLS need.
 */
function checkSdp(sdp: unknown, what: string): string {
  if (typeof sdp !== 'string') throw invalid(`${what}.sdp expected a string, got ${typeof sdp}`);
  if (sdp.length > MAX_SDP_BYTES) throw invalid(`${what}.sdp is ${sdp.length} chars, limit ${MAX_SDP_BYTES}`);
  // Control characters other than CR/LF have no place in SDP (RFC 8866 §5) and would let
  // a peer smuggle lines past a line-based check.
  for (let i = 0; i < sdp.length; i++) {
    const c = sdp.charCodeAt(i);
    if ((c < 0x20 && c !== 0x0a && c !== 0x0d) || c === 0x7f) {
      throw invalid(`${what}.sdp contains control character 0x${c.toString(16)} at ${i}`);
    }
  }
  const lines = sdp.split(/\r?\n/);
  if (lines[0] !== 'v=0') throw invalid(`${what}.sdp does not start with "v=0"`);
  const required: readonly [RegExp, string][] = [
    [/^m=application \d+ UDP\/DTLS\/SCTP webrtc-datachannel$/, 'm=application ... webrtc-datachannel'],
    [/^a=ice-ufrag:[A-Za-z0-9+/]{4,256}$/, 'a=ice-ufrag'],
    [/^a=ice-pwd:[A-Za-z0-9+/]{22,256}$/, 'a=ice-pwd'],
    [/^a=fingerprint:[A-Za-z0-9-]+ [0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2})+$/, 'a=fingerprint'],
  ];
  for (const [re, name] of required) {
    if (!lines.some((l) => re.test(l))) throw invalid(`${what}.sdp lacks a valid ${name} line`);
  }
  return sdp;
}

/** Validates an offer received from a peer. */
export function parseOffer(value: unknown): SignalOffer {
  if (!isRecord(value) || value['type'] !== 'offer') throw invalid('expected { type: "offer", sdp }');
  return { type: 'offer', sdp: checkSdp(value['sdp'], 'offer') };
}

/** Validates an answer received from a peer. */
export function parseAnswer(value: unknown): SignalAnswer {
  if (!isRecord(value) || value['type'] !== 'answer') throw invalid('expected { type: "answer", sdp }');
  return { type: 'answer', sdp: checkSdp(value['sdp'], 'answer') };
}

/** Validates a trickled candidate received from a peer. */
export function parseCandidate(value: unknown): SignalCandidate {
  if (!isRecord(value) || value['type'] !== 'candidate') {
    throw invalid('expected { type: "candidate", candidate, sdpMid }');
  }
  const { candidate, sdpMid } = value;
  if (typeof candidate !== 'string') throw invalid('candidate.candidate expected a string');
  if (candidate.length > MAX_CANDIDATE_BYTES) throw invalid(`candidate longer than ${MAX_CANDIDATE_BYTES}`);
  // RFC 8839 §5.1: foundation, component, transport, priority, address, port, "typ", type.
  if (
    !/^candidate:[A-Za-z0-9+/]{1,32} \d{1,3} [A-Za-z]+ \d{1,10} \S+ \d{1,5} typ [a-z]+( \S+)*$/.test(
      candidate,
    )
  ) {
    throw invalid('candidate is not an RFC 8839 candidate attribute');
  }
  if (
    sdpMid !== null &&
    (typeof sdpMid !== 'string' || sdpMid.length > MAX_MID_BYTES || !/^[\x21-\x7e]*$/.test(sdpMid))
  ) {
    throw invalid('candidate.sdpMid expected null or a short token');
  }
  return { type: 'candidate', candidate, sdpMid };
}

/** Validates any signal by its `type`. */
export function parseSignal(value: unknown): Signal {
  if (!isRecord(value)) throw invalid('expected a signal object');
  switch (value['type']) {
    case 'offer':
      return parseOffer(value);
    case 'answer':
      return parseAnswer(value);
    case 'candidate':
      return parseCandidate(value);
    default:
      throw invalid(`unknown signal type ${JSON.stringify(value['type'])}`);
  }
}

/**
 * Binary form of a signal for envelopes: version, tag, then LEB128-prefixed UTF-8 fields.
 * Smaller than JSON and decodable without a JSON parser on hostile input.
 */
export function encodeSignal(signal: Signal): Uint8Array {
  const s = parseSignal(signal);
  const w = new ByteWriter(s.type === 'candidate' ? 128 : 1024).u8(SIGNAL_VERSION).u8(TAG[s.type]);
  if (s.type === 'candidate') {
    w.varBytes(utf8ToBytes(s.candidate));
    w.u8(s.sdpMid === null ? 0 : 1);
    if (s.sdpMid !== null) w.varBytes(utf8ToBytes(s.sdpMid));
  } else {
    w.varBytes(utf8ToBytes(s.sdp));
  }
  return w.finish();
}

/** Inverse of `encodeSignal`; throws `SIGNALING_INVALID` on any malformed input. */
export function decodeSignal(bytes: Uint8Array): Signal {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('"bytes" expected Uint8Array');
  let value: Signal;
  try {
    const r = new ByteReader(bytes);
    const version = r.u8('version');
    if (version !== SIGNAL_VERSION) throw invalid(`unknown signal version ${version}`);
    const tag = r.u8('tag');
    if (tag === TAG.candidate) {
      const candidate = bytesToUtf8(r.varBytes(MAX_CANDIDATE_BYTES, 'candidate'));
      const hasMid = r.u8('sdpMid flag');
      if (hasMid > 1) throw invalid('bad sdpMid flag');
      const sdpMid = hasMid === 1 ? bytesToUtf8(r.varBytes(MAX_MID_BYTES, 'sdpMid')) : null;
      value = { type: 'candidate', candidate, sdpMid };
    } else if (tag === TAG.offer || tag === TAG.answer) {
      const sdp = bytesToUtf8(r.varBytes(MAX_SDP_BYTES, 'sdp'));
      value = tag === TAG.offer ? { type: 'offer', sdp } : { type: 'answer', sdp };
    } else {
      throw invalid(`unknown signal tag ${tag}`);
    }
    r.end('signal');
  } catch (e) {
    if (e instanceof TransportError) throw e;
    throw invalid(`malformed signal: ${e instanceof Error ? e.message : String(e)}`, e);
  }
  return parseSignal(value);
}

/** Value of `a=max-message-size` (RFC 8841 §6): 0 means "no limit", absent means 64 KiB. */
export function remoteMaxMessageSize(sdp: string): number {
  const m = /^a=max-message-size:(\d{1,10})\r?$/m.exec(sdp);
  if (!m) return 65536;
  const n = Number(m[1]);
  return n === 0 ? Number.MAX_SAFE_INTEGER : n;
}

/** Removes candidate lines from an SDP: trickle mode sends them separately. */
export function stripCandidates(sdp: string): string {
  return sdp
    .split('\r\n')
    .filter((l) => !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates')
    .join('\r\n');
}

/** True for a host candidate named by mDNS (`<uuid>.local`) instead of an IP address. */
export function isMdnsCandidate(candidate: string): boolean {
  const address = candidate.replace(/^a=/, '').split(' ')[4];
  return address !== undefined && address.toLowerCase().endsWith('.local');
}

/** Removes mDNS candidates from an SDP for runtimes that cannot resolve them; counts them. */
export function stripMdnsCandidates(sdp: string): { sdp: string; removed: number } {
  let removed = 0;
  const kept = sdp.split('\r\n').filter((l) => {
    if (l.startsWith('a=candidate:') && isMdnsCandidate(l)) {
      removed++;
      return false;
    }
    return true;
  });
  return { sdp: kept.join('\r\n'), removed };
}

/**
 * The request envelope as kaspad's wRPC framework reads it. workflow-rpc deserializes every
 * client text frame with serde into `{ id: Option<u64>, method, params: serde_json::Value }`
 * and closes the connection on any error (`MalformedMessage`). serde is stricter than a JSON
 * parser about that envelope:
 *
 * - `id` must be a JSON integer literal in 0..2^64-1 or null/absent: `1.0`, `1e3`, negative
 *   numbers and 2^64 are refused (serde_json reads the first two as f64, which `u64` rejects);
 * - a field named twice (`id`, `method` or `params`) is refused by serde's derive;
 * - `params` is a `Value`, which has no default: a frame without it is refused;
 * - other top-level keys are ignored.
 *
 * `parseJson` gives the values but not how a number was written nor whether a key repeated,
 * so the top level is walked once more here, over the text already known to be valid JSON.
 */
import { parseJson } from '../../kaspa/rpc/json.ts';

/** A request envelope kaspad would accept. */
export interface RequestEnvelope {
  /** Absent for a client-side notification (no reply is due). */
  readonly id?: bigint | number;
  readonly method: string;
  readonly params: unknown;
}

const U64_MAX = (1n << 64n) - 1n;
const INTEGER = /^(0|[1-9][0-9]*)$/;
const FIELDS = new Set(['id', 'method', 'params']);

/** The envelope of `text`, or undefined where kaspad would drop the connection. */
export function readRequestEnvelope(text: string): RequestEnvelope | undefined {
  let value: unknown;
  try {
    value = parseJson(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const raw = topLevelFields(text);
  if (raw === undefined || !raw.has('method') || !raw.has('params')) return undefined;
  const o = value as Record<string, unknown>;
  if (typeof o['method'] !== 'string') return undefined;
  const idText = raw.get('id');
  if (idText === undefined || idText === 'null') return { method: o['method'], params: o['params'] };
  if (!INTEGER.test(idText) || BigInt(idText) > U64_MAX) return undefined;
  return { id: o['id'] as bigint | number, method: o['method'], params: o['params'] };
}

/**
 * The raw text of each envelope field at the top level of a valid JSON object, or undefined
 * when one of them appears twice. Linear in the text: strings are skipped by their quotes and
 * nesting by a depth counter.
 */
function topLevelFields(s: string): Map<string, string> | undefined {
  const fields = new Map<string, string>();
  let i = skipWs(s, 0) + 1; // past '{'
  for (;;) {
    i = skipWs(s, i);
    if (s[i] === '}') return fields;
    const keyEnd = stringEnd(s, i);
    const key = JSON.parse(s.slice(i, keyEnd)) as string;
    i = skipWs(s, keyEnd) + 1; // past ':'
    const start = skipWs(s, i);
    const end = valueEnd(s, start);
    if (FIELDS.has(key)) {
      if (fields.has(key)) return undefined;
      fields.set(key, s.slice(start, end));
    }
    i = skipWs(s, end);
    if (s[i] === ',') i++;
  }
}

function skipWs(s: string, i: number): number {
  while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  return i;
}

/** Index just past the string starting at `i` (its opening quote). */
function stringEnd(s: string, i: number): number {
  for (let j = i + 1; ; j++) {
    if (s[j] === '\\') j++;
    else if (s[j] === '"') return j + 1;
  }
}

/** Index just past the JSON value starting at `i`. */
function valueEnd(s: string, i: number): number {
  const c = s[i];
  if (c === '"') return stringEnd(s, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    for (let j = i; ; j++) {
      const d = s[j];
      if (d === '"') j = stringEnd(s, j) - 1;
      else if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') {
        if (--depth === 0) return j + 1;
      }
    }
  }
  let j = i;
  while (j < s.length && !',}] \t\n\r'.includes(s[j]!)) j++;
  return j;
}

/**
 * Assertions for the storage suite that run in Node and in the browser bundle alike
 * (`node:assert` does not bundle for the browser). Failures throw plain Errors whose
 * message says what differed.
 */
import { bytesToHex } from '../../src/util/bytes.ts';
import { P2pCommError } from '../../src/util/errors.ts';
import type { Entry } from '../../src/storage/types.ts';

/** Readable form of bytes, entries and plain values for failure messages. */
export function show(v: unknown): string {
  if (v instanceof Uint8Array)
    return v.length > 64 ? `<${v.length} bytes ${bytesToHex(v.subarray(0, 16))}…>` : `<${bytesToHex(v)}>`;
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  return typeof v === 'bigint' ? `${v}n` : (JSON.stringify(v) ?? String(v));
}

/** Throws unless `cond`. */
export function ok(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

/** Strict equality of primitives. */
export function equal<T>(actual: T, expected: T, what: string): void {
  if (actual !== expected) throw new Error(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Byte equality; `actual` must be a plain Uint8Array (not a Buffer or other subclass). */
export function bytesEqual(
  actual: Uint8Array | undefined,
  expected: Uint8Array | undefined,
  what: string,
): void {
  if (expected === undefined) {
    if (actual !== undefined) throw new Error(`${what}: expected undefined, got ${show(actual)}`);
    return;
  }
  if (!(actual instanceof Uint8Array))
    throw new Error(`${what}: expected ${show(expected)}, got ${show(actual)}`);
  if (Object.getPrototypeOf(actual) !== Uint8Array.prototype)
    throw new Error(`${what}: not a plain Uint8Array`);
  if (!sameBytes(actual, expected))
    throw new Error(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

/** Entry list equality, in order. */
export function entriesEqual(actual: readonly Entry[], expected: readonly Entry[], what: string): void {
  const fail = (): never => {
    throw new Error(
      `${what}: expected ${show(expected.map((e) => e[0]))}, got ${show(actual.map((e) => e[0]))}`,
    );
  };
  if (actual.length !== expected.length) fail();
  actual.forEach(([k, v], i) => {
    const [ek, ev] = expected[i]!;
    if (!sameBytes(k, ek)) fail();
    bytesEqual(k, ek, `${what} key #${i}`);
    bytesEqual(v, ev, `${what} value #${i}`);
  });
}

/** Awaits `run` and requires it to fail with a P2pCommError of `code`, or an instance of the given class. */
export async function rejects(
  run: () => Promise<unknown>,
  expected: string | (abstract new (...args: never[]) => Error),
  what: string,
): Promise<void> {
  let error: unknown;
  try {
    await run();
  } catch (e) {
    error = e;
  }
  if (error === undefined) throw new Error(`${what}: expected a failure, got success`);
  if (typeof expected === 'string') {
    if (!(error instanceof P2pCommError) || error.code !== expected) {
      throw new Error(`${what}: expected error code ${expected}, got ${String(error)}`);
    }
  } else if (!(error instanceof expected)) {
    throw new Error(`${what}: expected ${expected.name}, got ${String(error)}`);
  }
}

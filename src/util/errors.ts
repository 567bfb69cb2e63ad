/**
 * Base of every typed error in p2pComm. Callers branch on `code`, never on message text
 * (STYLE §6, after libsignal `Errors.ts` and libp2p `interface/src/errors.ts`).
 */
export class P2pCommError<Code extends string = string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Raised by every binary decoder on truncated, oversized, malformed or unknown-version input. */
export class DecodeError extends P2pCommError<
  'TRUNCATED' | 'TRAILING_BYTES' | 'TOO_LARGE' | 'UNKNOWN_VERSION' | 'UNKNOWN_TYPE' | 'MALFORMED'
> {}

/** Checks a public byte-array input at the boundary and names the parameter (STYLE §1). */
export function assertBytes(name: string, value: unknown, length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`"${name}" expected Uint8Array, got ${value === null ? 'null' : typeof value}`);
  }
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`"${name}" expected Uint8Array of length ${length}, got length=${value.length}`);
  }
}

/** Checks that an integer input lies in [min, max] and names the parameter. */
export function assertInteger(
  name: string,
  value: unknown,
  min: number,
  max: number,
): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`"${name}" expected an integer, got ${String(value)}`);
  }
  if (value < min || value > max) throw new RangeError(`"${name}" expected ${min}..${max}, got ${value}`);
}

/** Checks that a bigint input lies in [min, max] and names the parameter. */
export function assertBigInt(
  name: string,
  value: unknown,
  min: bigint,
  max: bigint,
): asserts value is bigint {
  if (typeof value !== 'bigint') throw new TypeError(`"${name}" expected a bigint, got ${typeof value}`);
  if (value < min || value > max) throw new RangeError(`"${name}" expected ${min}..${max}, got ${value}`);
}

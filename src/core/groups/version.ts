/** The version byte every group format starts with (docs/protocol.md: an unknown version is refused, never guessed). */
import type { ByteReader } from '../../util/binary.ts';
import { DecodeError } from '../../util/errors.ts';

/** Reads the version byte of `what`; any other than `expected` is DecodeError UNKNOWN_VERSION. */
export function readVersion(r: ByteReader, what: string, expected: number): void {
  const version = r.u8(`${what} version`);
  if (version !== expected)
    throw new DecodeError(
      'UNKNOWN_VERSION',
      `${what} version ${version} is not read by this client (version ${expected})`,
    );
}

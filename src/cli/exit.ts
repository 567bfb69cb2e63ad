/**
 * Exit codes of `p2pcomm` (docs/api.md "Exit codes"), stable for scripts, and the words
 * shown for every failure: a sentence on stderr, never a stack trace.
 */
import { DeliveryError } from '../core/delivery/errors.ts';
import { RpcError } from '../kaspa/rpc/errors.ts';
import { StorageError } from '../storage/errors.ts';
import { P2pCommError } from '../util/errors.ts';
import { AppApiError } from '../web/app-api.ts';

/** What a script can rely on. */
export const EXIT = {
  OK: 0,
  /** Bad arguments or unknown command. */
  USAGE: 1,
  /** No such contact, message, request or identity. */
  NOT_FOUND: 2,
  /** The profile is open in another process. */
  IN_USE: 3,
  /** The Kaspa node could not be reached, or the message did not leave in time. */
  NETWORK: 4,
  /** Wrong password. */
  WRONG_PASSWORD: 5,
  /** Input refused: an invite, name, password, setting, backup file or message that is not valid. */
  REFUSED: 6,
  /** A message could not be delivered (e.g. not enough coins for the chain path). */
  UNDELIVERED: 7,
  /** Anything else: a fault of p2pComm or of the machine (disk, damaged profile). */
  INTERNAL: 10,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Codes of the CLI's own failures. */
export type CliErrorCode = 'USAGE' | 'NO_PASSWORD' | 'TIMEOUT' | 'UNDELIVERED' | 'NOT_FOUND';

/** A failure the CLI itself detects (arguments, missing password, a wait that ran out). */
export class CliError extends P2pCommError<CliErrorCode> {}

const APP_EXIT: Readonly<Record<string, ExitCode>> = {
  UNKNOWN_CONTACT: EXIT.NOT_FOUND,
  UNKNOWN_REQUEST: EXIT.NOT_FOUND,
  UNKNOWN_MESSAGE: EXIT.NOT_FOUND,
  NO_IDENTITY: EXIT.NOT_FOUND,
  IN_USE: EXIT.IN_USE,
  WRONG_PASSWORD: EXIT.WRONG_PASSWORD,
  LOCKED: EXIT.INTERNAL,
};

/** The exit code for `error`. */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof CliError) {
    switch (error.code) {
      case 'USAGE':
      case 'NO_PASSWORD':
        return EXIT.USAGE;
      case 'TIMEOUT':
        return EXIT.NETWORK;
      case 'UNDELIVERED':
        return EXIT.UNDELIVERED;
      case 'NOT_FOUND':
        return EXIT.NOT_FOUND;
    }
  }
  if (error instanceof AppApiError) return APP_EXIT[error.code] ?? EXIT.REFUSED;
  if (error instanceof StorageError) return error.code === 'PROFILE_IN_USE' ? EXIT.IN_USE : EXIT.INTERNAL;
  if (error instanceof RpcError) return EXIT.NETWORK;
  if (error instanceof DeliveryError)
    return error.code === 'UNKNOWN_CONTACT' || error.code === 'UNKNOWN_MESSAGE'
      ? EXIT.NOT_FOUND
      : EXIT.UNDELIVERED;
  return EXIT.INTERNAL;
}

/** The sentence shown for `error` (no stack, no internals beyond the message). */
export function errorWords(error: unknown): string {
  if (error instanceof StorageError) {
    switch (error.code) {
      case 'PROFILE_IN_USE':
        return `${error.message}: close the other p2pcomm first (or choose another --data directory)`;
      case 'VERSION_TOO_NEW':
        return 'This profile was written by a newer p2pComm: update p2pComm to open it';
      case 'CORRUPT':
      case 'DECRYPT_FAILED':
        return `The profile is damaged (${error.message}); restore it from a backup or the recovery key`;
      default:
        return `Cannot use the profile: ${error.message}`;
    }
  }
  if (error instanceof RpcError) return `Cannot reach the Kaspa node: ${error.message}`;
  if (error instanceof P2pCommError || error instanceof TypeError || error instanceof RangeError)
    return error.message;
  if (error instanceof Error) return `Unexpected failure: ${error.message}`;
  return `Unexpected failure: ${String(error)}`;
}

/**
 * The stored record of a client's ratchet sessions, versioned so that a writer only ever
 * replaces the state it loaded itself. Two live instances of one profile (two tabs, or a
 * process started twice) each load the same state; were both allowed to save, both would
 * encrypt under the same message key and nonce (Double Ratchet §3.4 assumes one sender per
 * chain). Each save here is a compare-and-set on the record last read or written by this
 * instance; an instance whose record was replaced by another one learns it as DeliveryError
 * SUPERSEDED before anything sealed under the stale state leaves the device, because
 * `EnvelopeSessions` returns frames only once their state is saved.
 *
 *   record = "p2ps" | u8 version = 1 | u64be generation | SessionManager.serialize() bytes
 *
 * The generation counts saves (1 for the first), which makes every record differ from the
 * one it replaces even if the state bytes were equal. A record without the magic is the
 * earlier bare `SessionManager.serialize()` output: it is rewritten in this format when
 * loaded (docs/protocol.md, "Session state record").
 */
import { ByteReader, ByteWriter } from '../../util/binary.ts';
import { equalBytes } from '../../util/bytes.ts';
import { DecodeError, assertBytes } from '../../util/errors.ts';
import { StorageError } from '../../storage/errors.ts';
import type { KeyValueStore } from '../../storage/types.ts';
import { DeliveryError } from './errors.ts';

const MAGIC = Uint8Array.of(0x70, 0x32, 0x70, 0x73); // "p2ps"
/** Version of the record layout (not of the session state inside it). */
export const SESSION_RECORD_VERSION = 1;
const HEADER_BYTES = MAGIC.length + 1 + 8;
/** Rounds of re-reading when another instance rewrites a legacy record while this one migrates it. */
const MIGRATION_TRIES = 3;

/** A decoded record: its generation and the session state it carries. */
export interface SessionRecord {
  readonly generation: bigint;
  readonly state: Uint8Array;
}

/** Encodes a record (exported for tests and documentation of the layout). */
export function encodeSessionRecord(record: SessionRecord): Uint8Array {
  assertBytes('record.state', record.state);
  return new ByteWriter(HEADER_BYTES + record.state.length)
    .bytes(MAGIC)
    .u8(SESSION_RECORD_VERSION)
    .u64(record.generation)
    .bytes(record.state)
    .finish();
}

/** True when `bytes` starts as a versioned record does (anything else is the legacy form). */
function isVersioned(bytes: Uint8Array): boolean {
  return bytes.length >= MAGIC.length && equalBytes(bytes.subarray(0, MAGIC.length), MAGIC);
}

/** Decodes a versioned record; DecodeError on a truncated record or an unknown version. */
export function decodeSessionRecord(bytes: Uint8Array): SessionRecord {
  assertBytes('bytes', bytes);
  const r = new ByteReader(bytes);
  if (!equalBytes(r.bytes(MAGIC.length, 'magic'), MAGIC))
    throw new DecodeError('MALFORMED', 'not a session state record');
  const version = r.u8('version');
  if (version !== SESSION_RECORD_VERSION)
    throw new DecodeError('UNKNOWN_VERSION', `session state record version ${version}`);
  return { generation: r.u64('generation'), state: r.rest() };
}

/** The session state of one profile in a `KeyValueStore`, saved only by compare-and-set. */
export class SessionStateStore {
  /** The record as this instance last read or wrote it (what the next save expects). */
  #record: Uint8Array | undefined;
  #generation: bigint;
  #superseded: DeliveryError | undefined;
  #saving: Promise<void> = Promise.resolve();

  private constructor(
    private readonly db: KeyValueStore,
    private readonly store: string,
    private readonly key: Uint8Array,
    record: Uint8Array | undefined,
    generation: bigint,
    /** The session state loaded, undefined for a profile without sessions yet. */
    readonly state: Uint8Array | undefined,
  ) {
    this.#record = record;
    this.#generation = generation;
  }

  /**
   * Loads the record under `store`/`key`, rewriting a legacy one in the versioned form.
   * DecodeError when the record is damaged or of an unknown version.
   */
  static async open(db: KeyValueStore, store: string, key: Uint8Array): Promise<SessionStateStore> {
    for (let attempt = 1; ; attempt++) {
      const bytes = await db.get(store, key);
      if (bytes === undefined) return new SessionStateStore(db, store, key, undefined, 0n, undefined);
      if (isVersioned(bytes)) {
        const { generation, state } = decodeSessionRecord(bytes);
        return new SessionStateStore(db, store, key, bytes, generation, state);
      }
      const migrated = encodeSessionRecord({ generation: 1n, state: bytes });
      try {
        await db.batch([{ type: 'put', store, key, value: migrated }], {
          expect: [{ store, key, value: bytes }],
        });
        return new SessionStateStore(db, store, key, migrated, 1n, bytes);
      } catch (error) {
        // Another instance migrated (or wrote) it first: read what it wrote.
        if (!(error instanceof StorageError && error.code === 'CONFLICT') || attempt >= MIGRATION_TRIES)
          throw error;
      }
    }
  }

  /** The generation of the record this instance holds (0 before the first save). */
  get generation(): bigint {
    return this.#generation;
  }

  /**
   * Saves `state` as the next generation if the stored record is still the one this
   * instance holds. DeliveryError SUPERSEDED otherwise, and on every later save: this
   * instance's state has forked from the stored one and must not be used again.
   */
  save(state: Uint8Array): Promise<void> {
    assertBytes('state', state);
    const run = async (): Promise<void> => {
      if (this.#superseded !== undefined) throw this.#superseded;
      const generation = this.#generation + 1n;
      const record = encodeSessionRecord({ generation, state });
      try {
        await this.db.batch([{ type: 'put', store: this.store, key: this.key, value: record }], {
          expect: [{ store: this.store, key: this.key, value: this.#record }],
        });
      } catch (error) {
        if (!(error instanceof StorageError && error.code === 'CONFLICT')) throw error;
        this.#superseded = new DeliveryError(
          'SUPERSEDED',
          'another instance of this profile changed the session state since this one loaded it; nothing sealed here may be sent',
          { cause: error },
        );
        throw this.#superseded;
      }
      this.#record = record;
      this.#generation = generation;
    };
    // One save at a time: each expects the record the previous one wrote.
    const next = this.#saving.then(run, run);
    this.#saving = next.catch(() => undefined);
    return next;
  }
}

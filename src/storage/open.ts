/** The last step of opening storage, the same in every runtime: seal, then migrate. */
import { openEncryptedStore, type EncryptionOptions } from './encrypted.ts';
import { openOpaqueKeys, refuseOpaqueKeys } from './opaque.ts';
import { migrate } from './schema.ts';
import type { KeyValueStore, StorageSchema } from './types.ts';

/** Options of `openStorage`. */
export interface OpenStorageOptions extends EncryptionOptions {
  /**
   * 32-byte key from the unlocked vault that seals every value at rest, or `null` for an
   * unencrypted database (tests, throwaway devnet wallets). Required so that going
   * without encryption is always a visible choice.
   */
  readonly storageKey: Uint8Array | null;
  /**
   * Keys reach the disk as keyed hashes (`opaque.ts`, the default with a storage key), so
   * that they name no contact, message or coin; a database in clear-key layout is converted
   * on open. `false` keeps keys in clear with every range scan of the contract (for data
   * that needs ranges other than prefixes, and whose keys say nothing).
   */
  readonly opaqueKeys?: boolean;
}

/**
 * Turns a structurally opened backend (`openSqliteStore`, `openIndexedDbStore`,
 * `openMemoryStore`) into the handle the application uses: values sealed under
 * `storageKey`, keys opaque (unless `opaqueKeys: false`), data migrated to `schema.version` (migrations run above the seal, so they
 * see plaintext). On failure `raw` is closed. Typical browser start-up:
 *
 * ```ts
 * const raw = await openIndexedDbStore('p2pcomm', SCHEMA);
 * const vaultBlob = await raw.get('vault', VAULT_KEY);          // 'vault' is sealed by the password
 * const storageKey = await unlockVault(vaultBlob, password);
 * const db = await openStorage(raw, SCHEMA, { storageKey, clearStores: ['vault'] });
 * ```
 */
export async function openStorage(
  raw: KeyValueStore,
  schema: StorageSchema,
  options: OpenStorageOptions,
): Promise<KeyValueStore> {
  try {
    if (typeof options !== 'object' || options === null || options.storageKey === undefined) {
      throw new TypeError('"options.storageKey" expected a 32-byte Uint8Array or null');
    }
    const { storageKey, opaqueKeys, ...encryption } = options;
    if (opaqueKeys !== undefined && typeof opaqueKeys !== 'boolean') {
      throw new TypeError('"options.opaqueKeys" expected a boolean');
    }
    let db = raw;
    if (storageKey !== null) {
      const sealed = await openEncryptedStore(raw, storageKey, encryption);
      if (opaqueKeys === false) {
        await refuseOpaqueKeys(sealed);
        db = sealed;
      } else {
        db = await openOpaqueKeys(sealed, storageKey, encryption.clearStores);
      }
    }
    await migrate(db, schema);
    return db;
  } catch (e) {
    await raw.close();
    throw e;
  }
}

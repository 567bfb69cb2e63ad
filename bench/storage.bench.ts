/**
 * Storage costs in Node: what one durable write, a read and the "latest messages" scan
 * cost on SQLite, beside the same operations with relaxed syncing (the floor set by the
 * fsync that FULL adds), on the in-memory backend (the floor of the interface itself),
 * and with and without sealing at rest.
 */
import { createCipheriv } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMemoryStore } from '../src/storage/memory.ts';
import { openSqliteStore } from '../src/storage/sqlite.ts';
import { openStorage } from '../src/storage/open.ts';
import { encodeKey } from '../src/storage/keys.ts';
import type { BatchOp, KeyValueStore, StorageSchema } from '../src/storage/types.ts';
import { randomBytes } from '../src/util/bytes.ts';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { fmtRate, opsPerSecond, type Bench, type BenchRow } from './table.ts';

const SCHEMA: StorageSchema = { version: 1, stores: ['messages'] };
const KEY = new Uint8Array(32).fill(3);
const VALUE = randomBytes(1024);
const PRELOAD = 10_000;

interface Figures {
  put: number;
  batch100: number;
  get: number;
  latest50: number;
}

async function measure(db: KeyValueStore): Promise<Figures> {
  const ops: BatchOp[] = [];
  for (let i = 0; i < PRELOAD; i++) {
    ops.push({ type: 'put', store: 'messages', key: encodeKey(`conv${i % 10}`, i), value: VALUE });
  }
  for (let i = 0; i < ops.length; i += 1000) await db.batch(ops.slice(i, i + 1000));
  let n = PRELOAD;
  const put = await opsPerSecond(() => db.put('messages', encodeKey('conv0', n++), VALUE), 800);
  const batch100 = await opsPerSecond(
    () =>
      db.batch(
        Array.from({ length: 100 }, () => ({
          type: 'put' as const,
          store: 'messages',
          key: encodeKey('conv1', n++),
          value: VALUE,
        })),
      ),
    800,
  );
  let r = 0;
  const get = await opsPerSecond(
    () => db.get('messages', encodeKey(`conv${r % 10}`, (r = (r + 7919) % PRELOAD))),
    800,
  );
  const latest50 = await opsPerSecond(
    () => db.scan('messages', { prefix: encodeKey('conv3'), reverse: true, limit: 50 }),
    800,
  );
  await db.close();
  return { put, batch100: batch100 * 100, get, latest50 };
}

const bench: Bench = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'p2pcomm-bench-'));
  try {
    const sqlite = (name: string, synchronous: 'full' | 'normal'): Promise<KeyValueStore> =>
      openSqliteStore(join(dir, `${name}.db`), SCHEMA, { synchronous });
    const sealed = async (raw: KeyValueStore): Promise<KeyValueStore> =>
      openStorage(raw, SCHEMA, { storageKey: KEY });
    const full = await measure(await sqlite('full', 'full'));
    const normal = await measure(await sqlite('normal', 'normal'));
    const sealedFull = await measure(await sealed(await sqlite('sealed', 'full')));
    const memory = await measure(await openMemoryStore(SCHEMA));
    const sealedMemory = await measure(await sealed(await openMemoryStore(SCHEMA)));

    const row = (name: string, pick: (f: Figures) => number, unit: string, note?: string): BenchRow[] => [
      {
        name: `${name}: sqlite FULL (default)`,
        value: fmtRate(pick(full), unit),
        reference: `sqlite NORMAL ${fmtRate(pick(normal), unit)}; memory ${fmtRate(pick(memory), unit)}`,
        ...(note !== undefined && { note }),
      },
      {
        name: `${name}: sealed sqlite FULL`,
        value: fmtRate(pick(sealedFull), unit),
        reference: `unsealed ${fmtRate(pick(full), unit)}; sealed memory ${fmtRate(pick(sealedMemory), unit)}`,
      },
    ];
    // The sealing primitive alone, beside the platform's native ChaCha20-Poly1305 (OpenSSL)
    // as the peer: what the pure-JS cipher (portable to the browser) costs per record.
    const nonce = randomBytes(24);
    const ad = randomBytes(24);
    const seal = await opsPerSecond(() => xchacha20poly1305(KEY, nonce, ad).encrypt(VALUE), 800);
    const native = await opsPerSecond(() => {
      const c = createCipheriv('chacha20-poly1305', KEY, nonce.subarray(0, 12), { authTagLength: 16 });
      c.setAAD(ad, { plaintextLength: VALUE.length });
      c.update(VALUE);
      c.final();
    }, 800);
    return {
      title: `Storage in Node (1 KiB values, ${PRELOAD.toLocaleString('en-US')} preloaded, 10 conversations)`,
      rows: [
        ...row('durable put (one batch each)', (f) => f.put, 'puts/s', 'FULL: one WAL fsync per commit'),
        ...row('batches of 100 puts', (f) => f.batch100, 'puts/s', 'one fsync per 100 puts'),
        ...row('get, random key', (f) => f.get, 'gets/s'),
        ...row('latest 50 of a conversation (reverse scan)', (f) => f.latest50, 'scans/s'),
        {
          name: 'seal 1 KiB: XChaCha20-Poly1305 (@noble/ciphers)',
          value: fmtRate(seal, 'seals/s'),
          reference: `node:crypto ChaCha20-Poly1305 ${fmtRate(native, 'seals/s')}`,
          note: 'native is Node-only; the browser has no ChaCha in WebCrypto',
        },
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

export default bench;

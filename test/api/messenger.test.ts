/**
 * The Messenger API in this process, on a real SQLite profile directory: one process per
 * profile (PROFILE_IN_USE, then free again after `close`), AbortSignal on calls and on the
 * event iterator, typed errors for unknown contacts and bad invites, and the XDG default
 * data directory. No node is needed for any of it: the engine keeps trying in the background.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { randomBytes, utf8ToBytes } from '../../src/util/bytes.ts';
import { AppApiError, Messenger, StorageError, defaultDataDir } from 'p2pcomm';
import { Vault } from '../../src/core/vault/vault.ts';
import {
  ONE_TIME_KEYS_RECORDS,
  encodeBackup,
  encodeOneTimeRecord,
  openBackup,
  readBackupHeader,
} from '../../src/web/engine/backup.ts';

/** A node address nothing listens on (port 9 is "discard", closed here). */
const NO_NODE = 'ws://127.0.0.1:9';

describe('Messenger', { timeout: 300_000 }, () => {
  let root: string;
  let dir: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'p2pcomm-messenger-'));
    dir = join(root, 'profile');
    const m = await Messenger.open({ dataDir: dir, nodeUrl: NO_NODE, onError: () => undefined });
    assert.equal(m.state.kind, 'empty');
    await m.create('Alice', 'alice-password');
    assert.equal(m.state.kind, 'unlocked');
    await m.close();
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('keeps a profile to one opener at a time, and frees it on close', async () => {
    const first = await Messenger.open({ dataDir: dir, onError: () => undefined });
    await assert.rejects(Messenger.open({ dataDir: dir }), (e: unknown) => {
      assert.ok(e instanceof StorageError);
      assert.equal(e.code, 'PROFILE_IN_USE');
      return true;
    });
    assert.equal(first.state.kind, 'locked');
    await first.close();
    const again = await Messenger.open({ dataDir: dir, onError: () => undefined });
    assert.equal(again.state.kind, 'locked');
    await again.close();
  });

  it('rejects an aborted call with the signal reason and leaves the profile as it was', async () => {
    const m = await Messenger.open({ dataDir: dir, onError: () => undefined });
    try {
      await assert.rejects(m.unlock('alice-password', { signal: AbortSignal.abort() }), {
        name: 'AbortError',
      });
      assert.equal(m.state.kind, 'locked');
      const reason = new Error('changed my mind');
      const c = new AbortController();
      c.abort(reason);
      await assert.rejects(m.unlock('alice-password', { signal: c.signal }), (e) => e === reason);
      await assert.rejects(m.unlock('wrong password'), (e: unknown) => {
        assert.ok(e instanceof AppApiError);
        assert.equal(e.code, 'WRONG_PASSWORD');
        return true;
      });
      await m.unlock('alice-password');
      assert.equal(m.state.kind, 'unlocked');
    } finally {
      await m.close();
    }
    await assert.rejects(m.contacts(), (e: unknown) => e instanceof AppApiError && e.code === 'LOCKED');
  });

  it('ends the event iterator when its signal aborts', async () => {
    const m = await Messenger.open({ dataDir: dir, onError: () => undefined });
    try {
      const stop = new AbortController();
      const seen: string[] = [];
      const reading = (async () => {
        for await (const e of m.events({ signal: stop.signal })) seen.push(e.type);
      })();
      await m.unlock('alice-password');
      stop.abort();
      await reading;
      assert.ok(seen.includes('vault'), `events seen: ${seen.join(', ')}`);
    } finally {
      await m.close();
    }
  });

  it('answers with typed errors for unknown contacts and bad invites', async () => {
    const m = await Messenger.open({ dataDir: dir, onError: () => undefined });
    try {
      await m.unlock('alice-password');
      const own = await m.card();
      assert.match(own, /^p2pcomm:/);
      const code = (e: unknown): string => (e instanceof AppApiError ? e.code : `not typed: ${String(e)}`);
      await assert.rejects(m.send('Nobody', 'hi'), (e) => code(e) === 'UNKNOWN_CONTACT');
      await assert.rejects(m.messages('p2p1nothing'), (e) => code(e) === 'UNKNOWN_CONTACT');
      await assert.rejects(m.addContact('hello'), (e) => code(e) === 'BAD_INVITE');
      await assert.rejects(m.addContact(own), (e) => code(e) === 'OWN_INVITE');
      await assert.rejects(m.send('Nobody', 'hi', { wait: 'soon' as 'sent' }), TypeError);
      assert.deepEqual(await m.contacts(), []);
    } finally {
      await m.close();
    }
  });

  it('imports a backup whose one-time keys name a contact the file does not hold, leaving them out', async () => {
    // A file edited, or written while a contact was being deleted: the keys belong to no card
    // of the file, so they are not restored, and the rest of the profile is.
    const m = await Messenger.open({ dataDir: dir, onError: () => undefined });
    let file: Uint8Array;
    let fingerprint: string;
    try {
      fingerprint = (await m.unlock('alice-password')).fingerprint;
      file = await m.exportBackup();
    } finally {
      await m.close();
    }
    const vault = await Vault.unlock(readBackupHeader(file).vault, 'alice-password');
    const seed = vault.exportSeed();
    vault.lock();
    const contents = openBackup(file, seed);
    const stray = {
      store: ONE_TIME_KEYS_RECORDS,
      key: utf8ToBytes('p2p1nobodyinthisfile'),
      value: encodeOneTimeRecord(randomBytes(40), [1, 2]),
    };
    const edited = encodeBackup({ ...contents, records: [...contents.records, stray] }, seed);
    const other = await Messenger.open({
      dataDir: join(root, 'imported'),
      nodeUrl: NO_NODE,
      onError: () => undefined,
    });
    try {
      assert.equal((await other.importBackup(edited, 'alice-password')).fingerprint, fingerprint);
      assert.equal(other.state.kind, 'unlocked');
      assert.deepEqual(await other.contacts(), []);
      assert.match(await other.card(), /^p2pcomm:/);
    } finally {
      await other.close();
    }
  });

  it('refuses a bad action wait before the action is sent', async () => {
    // The wait is checked first, as `send` checks its own: a TypeError after the reaction had
    // gone would leave the caller believing nothing was sent.
    const bob = await Messenger.open({
      dataDir: join(root, 'bob'),
      nodeUrl: NO_NODE,
      onError: () => undefined,
    });
    let card: string;
    try {
      await bob.create('Bob', 'bob-password');
      card = await bob.card();
    } finally {
      await bob.close();
    }
    const m = await Messenger.open({
      dataDir: join(root, 'carol'),
      nodeUrl: NO_NODE,
      onError: () => undefined,
    });
    try {
      await m.create('Carol', 'carol-password');
      await m.addContact(card);
      const sent = await m.send('Bob', 'the original');
      const bad = { wait: 'delivered' as 'sent' };
      await assert.rejects(m.react(sent.id, '👍', bad), TypeError);
      await assert.rejects(m.edit(sent.id, 'changed', bad), TypeError);
      await assert.rejects(m.reply('Bob', 'a reply', sent.id, bad), TypeError);
      await assert.rejects(m.forward(sent.id, ['Bob'], bad), TypeError);
      await assert.rejects(m.deleteForEveryone(sent.id, bad), TypeError);
      const history = await m.messages('Bob');
      assert.equal(history.length, 1, 'nothing but the original was sent');
      assert.equal(history[0]!.text, 'the original');
      assert.deepEqual(history[0]!.reactions ?? [], []);
      assert.notEqual(history[0]!.deleted, true);
    } finally {
      await m.close();
    }
  });

  it('puts the profile under XDG_DATA_HOME, or ~/.local/share', () => {
    assert.equal(defaultDataDir({ XDG_DATA_HOME: '/srv/data' }), '/srv/data/p2pcomm');
    assert.match(defaultDataDir({ XDG_DATA_HOME: 'relative/ignored' }), /\/\.local\/share\/p2pcomm$/);
    assert.match(defaultDataDir({}), /\/\.local\/share\/p2pcomm$/);
  });
});

/**
 * The fake engine behind demos and UI tests: it must honour the AppApi contract the UI relies
 * on (typed refusals, state kept on a wrong password, ticks in order, balance accounting).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { notificationValue } from '../../src/core/delivery/chain-tx.ts';
import { AppApiError, type AppEvent, type ChatMessage, type ContactId } from '../../src/web/app-api.ts';
import { FakeApi } from '../../src/web/fake-api.ts';
import { MAX_MESSAGES_PER_REQUEST } from '../../src/core/requests/requests.ts';

const code = (c: string) => (e: unknown) => e instanceof AppApiError && e.code === c;

/** Resolves when `predicate` holds for an event, collecting the events seen. */
async function until(api: FakeApi, predicate: (e: AppEvent) => boolean): Promise<void> {
  await new Promise<void>((resolve) => {
    const stop = api.subscribe((e) => {
      if (predicate(e)) {
        stop();
        resolve();
      }
    });
  });
}

describe('FakeApi', () => {
  it('creates an identity with 25 recovery words and refuses bad input by code', async () => {
    const api = new FakeApi({ stepMs: 1 });
    assert.deepEqual(api.vaultState(), { kind: 'empty' });
    await assert.rejects(api.createIdentity('  ', 'password123'), code('BAD_NAME'));
    await assert.rejects(api.createIdentity('Ann', 'short'), code('WEAK_PASSWORD'));
    const created = await api.createIdentity('Ann', 'password123');
    assert.equal(created.recoveryWords.length, 25);
    assert.match(created.identity.fingerprint, /^[0-9a-f]{4}( [0-9a-f]{4}){3}$/);
    await assert.rejects(api.createIdentity('Ann', 'password123'), code('IDENTITY_EXISTS'));
  });

  it('keeps everything on a wrong password and unlocks with the right one', async () => {
    const api = new FakeApi({ stepMs: 1, seed: true });
    const before = await api.conversations();
    await api.lock();
    assert.equal(api.vaultState().kind, 'locked');
    await assert.rejects(api.conversations(), code('LOCKED'));
    await assert.rejects(api.unlock('wrong password'), code('WRONG_PASSWORD'));
    assert.equal(api.vaultState().kind, 'locked');
    await api.unlock('correct horse battery');
    assert.deepEqual(
      (await api.conversations()).map((c) => c.contact.id),
      before.map((c) => c.contact.id),
    );
  });

  it('restores the same fingerprint from the same recovery words', async () => {
    const a = new FakeApi({ stepMs: 1 });
    const { recoveryWords, identity } = await a.createIdentity('Ann', 'password123');
    const b = new FakeApi({ stepMs: 1 });
    await assert.rejects(b.restore('abandon abandon', 'Ann', 'password123'), code('BAD_RECOVERY_KEY'));
    const restored = await b.restore(recoveryWords.join('  ').toUpperCase(), 'Ann', 'password456');
    assert.equal(restored.fingerprint, identity.fingerprint);
    const backup = await a.exportBackup();
    const c = new FakeApi({ stepMs: 1 });
    assert.equal((await c.importBackup(backup, 'password789')).fingerprint, identity.fingerprint);
    await assert.rejects(c.importBackup(new Uint8Array([1, 2, 3]), 'password789'), code('BAD_BACKUP'));
  });

  it('adds a contact from an invite once, and refuses junk and its own invite', async () => {
    const alice = new FakeApi({ stepMs: 1 });
    await alice.createIdentity('Alice', 'password123');
    const bob = new FakeApi({ stepMs: 1 });
    await bob.createIdentity('Bob', 'password123');
    const invite = await alice.myInviteCode();
    assert.equal((await bob.previewInvite(invite)).displayName, 'Alice');
    const c1 = await bob.addContact(invite);
    const c2 = await bob.addContact(invite);
    assert.equal(c1.id, c2.id);
    await assert.rejects(bob.addContact(await bob.myInviteCode()), code('OWN_INVITE'));
    for (const junk of ['', 'AAAA', 'eyJ2IjoyfQ', '!!!!'])
      await assert.rejects(bob.previewInvite(junk), code('BAD_INVITE'));
  });

  it('shows one safety number on both sides; scanning or typing the other side verifies', async () => {
    const alice = new FakeApi({ stepMs: 1 });
    await alice.createIdentity('Alice', 'password123');
    const bob = new FakeApi({ stepMs: 1 });
    await bob.createIdentity('Bob', 'password123');
    const bobAtAlice = await alice.addContact(await bob.myInviteCode());
    const aliceAtBob = await bob.addContact(await alice.myInviteCode());
    const a = await alice.safetyNumber(bobAtAlice.id);
    const b = await bob.safetyNumber(aliceAtBob.id);
    assert.equal(a.groups.length, 12);
    assert.ok(a.groups.every((g) => /^\d{5}$/.test(g)));
    assert.deepEqual(a.groups, b.groups);
    assert.equal(aliceAtBob.verified, false);

    assert.equal(await bob.verifyContact(aliceAtBob.id, b.scanCode), 'mismatch', 'its own code');
    assert.equal((await bob.contact(aliceAtBob.id)).verified, false);
    assert.equal(await bob.verifyContact(aliceAtBob.id, a.scanCode), 'match');
    assert.equal((await bob.contact(aliceAtBob.id)).verified, true);
    assert.equal(await alice.verifyContact(bobAtAlice.id, b.groups.join(' ')), 'match');
    assert.equal((await alice.contact(bobAtAlice.id)).verified, true);
    await assert.rejects(alice.verifyContact(bobAtAlice.id, '12345'), code('BAD_SAFETY_CODE'));
    await assert.rejects(alice.safetyNumber('nobody' as ContactId), code('UNKNOWN_CONTACT'));

    await alice.unverifyContact(bobAtAlice.id);
    assert.equal((await alice.contact(bobAtAlice.id)).verified, false);
  });

  it('warns about a new key under a known name, and about a verified key that changed', async () => {
    const api = new FakeApi({ stepMs: 1 });
    await api.createIdentity('Me', 'password123');
    const first = new FakeApi({ stepMs: 1 });
    await first.createIdentity('Dana', 'password123');
    const again = new FakeApi({ stepMs: 1 });
    await again.createIdentity(' dana ', 'password123');
    const original = await api.addContact(await first.myInviteCode());
    assert.equal(original.keyWarning, undefined);
    const newcomer = await api.addContact(await again.myInviteCode());
    assert.notEqual(newcomer.id, original.id);
    assert.deepEqual(newcomer.keyWarning, { kind: 'same-name', otherId: original.id });
    assert.equal(
      (await api.contact(original.id)).keyWarning,
      undefined,
      'the contact known first is not blamed',
    );
    // Verifying the newcomer settles it.
    assert.equal(await api.verifyContact(newcomer.id, api.contactSafetyCode(newcomer.id)), 'match');
    assert.equal((await api.contact(newcomer.id)).keyWarning, undefined);

    api.changeContactKey(newcomer.id);
    const changed = await api.contact(newcomer.id);
    assert.equal(changed.verified, false);
    assert.deepEqual(changed.keyWarning, { kind: 'changed' });
  });

  it('moves a direct message through sending, sent, delivered, read in order', async () => {
    const api = new FakeApi({ stepMs: 2, seed: true });
    const grace = (await api.conversations()).find((c) => c.contact.displayName === 'Grace Hopper');
    assert.ok(grace);
    const statuses: string[] = [];
    const sent = await api.send(grace.contact.id, 'hello');
    statuses.push(sent.status);
    api.subscribe((e) => {
      if (e.type === 'message' && e.message.id === sent.id) statuses.push(e.message.status);
    });
    await until(api, (e) => e.type === 'message' && e.message.id === sent.id && e.message.status === 'read');
    assert.deepEqual(statuses, ['sending', 'sent', 'delivered', 'read']);
    await assert.rejects(api.send(grace.contact.id, '   '), code('EMPTY_MESSAGE'));
    await assert.rejects(api.send(grace.contact.id, 'x'.repeat(4001)), code('MESSAGE_TOO_LONG'));
    await assert.rejects(api.send('nope' as ContactId, 'hi'), code('UNKNOWN_CONTACT'));
    // The newest `limit` messages, none for a limit of 0; a bad limit is misuse.
    const all = await api.messages(grace.contact.id);
    assert.ok(all.length >= 2);
    assert.deepEqual(await api.messages(grace.contact.id, { limit: 0 }), []);
    assert.deepEqual(await api.messages(grace.contact.id, { limit: 1 }), all.slice(-1));
    assert.deepEqual(await api.messages(grace.contact.id, { limit: all.length + 5 }), all);
    await assert.rejects(api.messages(grace.contact.id, { limit: -1 }), RangeError);
    await assert.rejects(api.messages(grace.contact.id, { limit: 1.5 }), RangeError);
    assert.equal(await api.deliveryProof(sent.id), null);
  });

  it('delivers to an offline contact securely: proof, balance spent and held, returned on receipt', async () => {
    const api = new FakeApi({ stepMs: 1, seed: true });
    const linus = (await api.conversations()).find((c) => c.contact.displayName === 'Linus');
    assert.ok(linus);
    const before = await api.balance();
    const m = await api.send(linus.contact.id, 'while you were out');
    let last: ChatMessage | undefined;
    await until(
      api,
      (e) => e.type === 'message' && e.message.id === m.id && (last = e.message).status === 'sent',
    );
    assert.equal(last?.route, 'secure');
    assert.equal(last?.hasProof, true);
    const proof = await api.deliveryProof(m.id);
    assert.match(proof?.txId ?? '', /^[0-9a-f]{64}$/);
    assert.equal(proof?.receiptReceived, false);
    const after = await api.balance();
    assert.equal(after.pendingMessages, before.pendingMessages + 1);
    assert.equal(after.messagesLeft < before.messagesLeft, true);
    assert.equal(after.topUpUrl, undefined, 'no top-up off mainnet');

    api.setConnection(linus.contact.id, 'connected');
    assert.equal((await api.deliveryProof(m.id))?.receiptReceived, true);
    assert.equal((await api.balance()).lockedInPending, before.lockedInPending - notificationValue());
  });

  it('holds offline messages in P2P-only mode and sends them when a link comes up', async () => {
    const api = new FakeApi({ stepMs: 1, seed: true });
    const linus = (await api.conversations()).find((c) => c.contact.displayName === 'Linus');
    assert.ok(linus);
    assert.equal((await api.setP2pOnly(true)).p2pOnly, true);
    const m = await api.send(linus.contact.id, 'wait for me');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal((await api.messages(linus.contact.id)).at(-1)?.status, 'sending');
    api.setConnection(linus.contact.id, 'connected');
    const now = (await api.messages(linus.contact.id)).find((x) => x.id === m.id);
    assert.equal(now?.route, 'direct');
    assert.equal(now?.hasProof, false);
  });

  it('validates settings and offers the top-up link on mainnet only', async () => {
    const api = new FakeApi({ stepMs: 1, seed: true });
    await assert.rejects(api.updateSettings({ nodeUrls: ['http://x'] }), code('BAD_SETTING'));
    const s = await api.updateSettings({ network: 'mainnet' });
    assert.deepEqual(s.nodeUrls, ['ws://127.0.0.1:18110']);
    assert.match((await api.balance()).topUpUrl ?? '', /^https:\/\//);
  });

  it('counts unread incoming messages and clears them on markRead', async () => {
    const api = new FakeApi({ stepMs: 1, seed: true });
    const radia = (await api.conversations()).find((c) => c.contact.displayName === 'Radia Perlman');
    assert.ok(radia);
    api.receive(radia.contact.id, 'one');
    api.receive(radia.contact.id, 'two');
    const row = (await api.conversations()).find((c) => c.contact.id === radia.contact.id);
    assert.equal(row?.unread, 2);
    assert.equal(row?.last?.text, 'two');
    await api.markRead(radia.contact.id);
    assert.equal((await api.conversations()).find((c) => c.contact.id === radia.contact.id)?.unread, 0);
  });

  it("keeps a stranger's first messages as a request; Accept makes a contact, Block drops, Delete forgets", async () => {
    const api = new FakeApi({ stepMs: 1 });
    await api.createIdentity('Ann', 'password123');
    const events: AppEvent[] = [];
    api.subscribe((e) => events.push(e));
    const id = api.receiveFromStranger('Eve', 'hello?')!;
    api.receiveFromStranger('Eve', 'anyone?');
    assert.ok(events.some((e) => e.type === 'requests'));
    assert.deepEqual(await api.conversations(), [], 'a request is not a conversation');
    const [r] = await api.messageRequests();
    assert.equal(r!.displayName, 'Eve');
    assert.deepEqual(
      r!.messages.map((m) => m.text),
      ['hello?', 'anyone?'],
    );
    await assert.rejects(api.messages(id), code('UNKNOWN_CONTACT'));
    const contact = await api.acceptRequest(id);
    assert.equal(contact.displayName, 'Eve');
    assert.deepEqual(await api.messageRequests(), []);
    assert.deepEqual(
      (await api.messages(id)).map((m) => m.text),
      ['hello?', 'anyone?'],
    );
    await assert.rejects(api.acceptRequest(id), code('UNKNOWN_REQUEST'));

    const mallory = api.receiveFromStranger('Mallory', 'buy now')!;
    await api.blockRequest(mallory);
    assert.equal(api.receiveFromStranger('Mallory', 'buy now!!'), undefined);
    assert.deepEqual(await api.messageRequests(), []);
    const zed = api.receiveFromStranger('Zed', 'first')!;
    await api.deleteRequest(zed);
    await assert.rejects(api.deleteRequest(zed), code('UNKNOWN_REQUEST'));
    api.receiveFromStranger('Zed', 'again');
    assert.deepEqual(
      (await api.messageRequests()).map((x) => x.messages.map((m) => m.text)),
      [['again']],
    );
  });

  it('bounds each request as the engine does: the newest messages are kept', async () => {
    const api = new FakeApi({ stepMs: 1 });
    await api.createIdentity('Ann', 'password123');
    for (let i = 0; i < MAX_MESSAGES_PER_REQUEST + 3; i++) api.receiveFromStranger('Eve', `m${i}`);
    const [r] = await api.messageRequests();
    assert.equal(r!.messages.length, MAX_MESSAGES_PER_REQUEST);
    assert.equal(r!.messages[0]!.text, 'm3');
  });

  it('refuses an invite of another network with WRONG_NETWORK', async () => {
    const other = new FakeApi({ seed: true, stepMs: 1 });
    await other.updateSettings({ network: 'testnet-10' });
    const invite = await other.myInviteCode();
    const api = new FakeApi({ stepMs: 1 });
    await api.createIdentity('Ann', 'password123');
    await assert.rejects(api.previewInvite(invite), code('WRONG_NETWORK'));
    await assert.rejects(api.addContact(invite), code('WRONG_NETWORK'));
  });
});

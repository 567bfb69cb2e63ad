/** Browser side of browser.test.ts: the messaging core running in Chromium. */
import { Address, AddressVersion } from '../../src/kaspa/address.ts';
import { Identity } from '../../src/core/identity/identity.ts';
import { ContactCard } from '../../src/core/contact/card.ts';
import { SessionManager } from '../../src/core/session/session-manager.ts';
import { Vault } from '../../src/core/vault/vault.ts';
import { decodeRecoveryKey, encodeRecoveryKey } from '../../src/core/identity/recovery-key.ts';
import { packBatch, scanBatch } from '../../src/core/envelope/batch.ts';
import { ReplayGuard } from '../../src/core/envelope/replay-guard.ts';
import { createEnvelope } from '../../src/core/envelope/envelope.ts';
import { sealEnvelope } from '../../src/core/envelope/sealed.ts';
import { formatPeerId } from '../../src/core/identity/peer-id.ts';
import { bytesToHex, hexToBytes } from '../../src/util/bytes.ts';

let me: { identity: Identity; card: ContactCard; sessions: SessionManager } | undefined;
const guard = new ReplayGuard();

function user(): NonNullable<typeof me> {
  if (me === undefined) throw new Error('init() first');
  return me;
}

/** Creates a vault, unlocks it, and restores from the recovery key: returns the peer IDs seen. */
export async function vaultAndRecovery(): Promise<string[]> {
  const v = await Vault.create('pässword', undefined, { logN: 12, r: 8, p: 1 });
  const u = await Vault.unlock(v.serialize(), 'pässword');
  let wrong = 'no error';
  try {
    await Vault.unlock(v.serialize(), 'password');
  } catch (e) {
    wrong = (e as { code?: string }).code ?? String(e);
  }
  const restored = Identity.fromSeed(decodeRecoveryKey(encodeRecoveryKey(u.exportSeed())));
  return [
    formatPeerId(v.identity().peerId),
    formatPeerId(u.identity().peerId),
    formatPeerId(restored.peerId),
    wrong,
  ];
}

/** Makes this page's user from a seed and returns its contact link. */
export function init(seedHex: string): string {
  const identity = Identity.fromSeed(hexToBytes(seedHex));
  const sessions = SessionManager.create(identity);
  const card = sessions.issueOwnCard({
    displayName: 'browser',
    addresses: [new Address('kaspatest', AddressVersion.PubKey, identity.publicKey)],
  });
  me = { identity, card, sessions };
  return card.toLink();
}

/** Opens the chat envelopes addressed to us in a batch payload (hex). */
export function scan(payloadHex: string): string[] {
  const r = scanBatch(hexToBytes(payloadHex), user().sessions, guard);
  return r.received.map((x) =>
    x.kind === 'envelope' && x.envelope.body.type === 'chat' ? x.envelope.body.text : x.kind,
  );
}

/** A batch payload (hex) with one chat message to the sender of the last message. */
export function reply(peerLink: string, text: string): string {
  const peer = ContactCard.fromLink(peerLink);
  const u = user();
  if (u.sessions.contact(peer.peerId) === undefined) u.sessions.addContact(peer);
  return bytesToHex(
    packBatch([
      {
        bytes: sealEnvelope(u.sessions, peer.peerId, createEnvelope({ type: 'chat', text })),
        firstContact: u.sessions.awaitsReply(peer.peerId),
      },
    ]),
  );
}

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Address, AddressVersion } from '../../src/kaspa/address.ts';
import { ContactCard } from '../../src/core/contact/card.ts';
import { makeUser, errorCode } from './helpers.ts';

describe('contact cards in the session manager', () => {
  it('a different card with an equal issue time is refused (STALE_VERSION); the same card again is a no-op', () => {
    const a = makeUser('alice');
    const b = makeUser('bob');
    b.sessions.addContact(a.card);
    const rival = ContactCard.create(a.identity, {
      displayName: 'not alice',
      addresses: [new Address('kaspatest', AddressVersion.PubKey, new Uint8Array(32).fill(9))],
      issuedAt: a.card.issuedAt,
    });
    assert.equal(
      errorCode(() => b.sessions.addContact(rival)),
      'STALE_VERSION',
    );
    assert.equal(b.sessions.contact(a.identity.peerId)?.displayName, 'alice');
    b.sessions.addContact(ContactCard.deserialize(a.card.serialize()));
    assert.equal(b.sessions.contact(a.identity.peerId)?.displayName, 'alice');
  });
});

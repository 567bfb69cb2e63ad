/**
 * Which of a card's notification addresses this client can pay on its network. A card lists
 * up to four addresses, each with its network byte (card.ts); a client on one network can
 * neither pay nor return a coin to an address of another, so a card without an address on
 * the client's network describes someone it cannot reach. Such a card is refused where it
 * enters: when the user adds it and when a first message carries it (docs/delivery.md).
 */
import { ContactCardError } from '../errors.ts';
import type { Address, NetworkPrefix } from '../../kaspa/address.ts';
import type { ContactCard } from './card.ts';

/** The card's first address on `network`, or undefined when it lists none there. */
export function addressOn(card: ContactCard, network: NetworkPrefix): Address | undefined {
  return card.addresses.find((a) => a.prefix === network);
}

/**
 * The card's first address on `network`. Throws ContactCardError WRONG_NETWORK when every
 * address it lists belongs to another network.
 */
export function requireAddressOn(card: ContactCard, network: NetworkPrefix): Address {
  const found = addressOn(card, network);
  if (found !== undefined) return found;
  const listed = [...new Set(card.addresses.map((a) => a.prefix))].join(', ');
  throw new ContactCardError(
    'WRONG_NETWORK',
    `the card lists addresses on ${listed} only, none on ${network}`,
  );
}

/** Chain format 2 addresses: stealth notification keys and the address book of one client. */
export {
  ChainAddresses,
  INVITE_GAP,
  INVITE_WATCH,
  peerKeysOf,
  type ChainAddressesOptions,
  type AddressOrigin,
  type PeerKeys,
} from './book.ts';
export {
  StealthError,
  conversationSecret,
  notificationTweak,
  tweakPrivateKey,
  tweakPublicKey,
} from './stealth.ts';

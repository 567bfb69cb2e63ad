/**
 * The Kaspa wallet of an identity: BIP-32 on the gen1 path `m/44'/111111'/account'/change/index`
 * (FACTS §2.3), seeded by the identity's BIP-39 seed, so the 24 words of the recovery key
 * restore the same addresses in any standard Kaspa wallet.
 */
import { KaspaHdWallet } from '../../kaspa/hd.ts';
import type { Address, NetworkPrefix } from '../../kaspa/address.ts';
import type { Identity } from './identity.ts';

/** The HD wallet of `identity`; `network` only picks the extended-key labels (kprv/ktrv). */
export function identityWallet(
  identity: Identity,
  network: 'mainnet' | 'testnet' = 'mainnet',
): KaspaHdWallet {
  return KaspaHdWallet.fromSeed(identity.walletSeed(), network);
}

/** Receive address `index` of `account` (change = 0), e.g. for a contact card. */
export function receiveAddress(identity: Identity, prefix: NetworkPrefix, account = 0, index = 0): Address {
  return identityWallet(identity).address(prefix, account, 0, index);
}

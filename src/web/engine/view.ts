/**
 * The engine's records in the app's words (app-api.ts): chain becomes "secure" delivery,
 * the link "direct"; queued becomes "sending" and published "sent". Pure functions, so the
 * mapping is tested without a browser.
 */
import type { FundsView } from '../../core/delivery/engine.ts';
import type { Message, OutgoingStatus, Route } from '../../core/delivery/messages.ts';
import { notificationValue } from '../../core/delivery/chain-tx.ts';
import { NETWORKS } from './network.ts';
import {
  type ChatMessage,
  type ContactId,
  type DeliveryBalance,
  type DeliveryRoute,
  type MessageId,
  type MessageStatus,
  type NetworkId,
} from '../app-api.ts';

const STATUS: Readonly<Record<OutgoingStatus, MessageStatus>> = {
  queued: 'sending',
  sent: 'sent',
  published: 'sent',
  delivered: 'delivered',
  read: 'read',
  failed: 'failed',
};

/** The UI word for a path. */
export function routeWord(route: Route): DeliveryRoute {
  return route === 'chain' ? 'secure' : 'direct';
}

/**
 * A message as the conversation shows it. An outgoing message has a proof once published; an
 * incoming one that arrived by chain has one when its transaction is known (`chainEvidence`).
 */
export function chatMessage(m: Message, chainEvidence: boolean): ChatMessage {
  const attachment = m.attachment === true ? { attachment: true as const } : {};
  if (m.direction === 'in') {
    return {
      id: m.id as MessageId,
      contactId: m.contact as ContactId,
      outgoing: false,
      text: m.text,
      sentAt: m.sentAt,
      status: 'delivered',
      route: routeWord(m.route),
      hasProof: m.route === 'chain' && chainEvidence,
      ...attachment,
    };
  }
  const base = {
    id: m.id as MessageId,
    contactId: m.contact as ContactId,
    outgoing: true,
    text: m.text,
    sentAt: m.sentAt,
    status: STATUS[m.status],
    hasProof: m.proof !== undefined,
    ...attachment,
  };
  return m.route === undefined ? base : { ...base, route: routeWord(m.route) };
}

/**
 * The order of a conversation, as `DeliveryEngine.messages` returns it: by the writer's clock;
 * ties incoming first, then by id. Used on stored records while the engine is not running.
 */
export function conversationOrder(a: Message, b: Message): number {
  return (
    a.sentAt - b.sentAt ||
    (a.direction === b.direction ? (a.id < b.id ? -1 : 1) : a.direction === 'in' ? -1 : 1)
  );
}

/**
 * The balance in user terms: messages left at the current fee, and the value held in
 * notification coins (returned when recipients acknowledge, NOTES §1) shown apart. The top-up
 * link-out is the network's (`topUpUrl`, mainnet only): elsewhere coins have no price.
 */
export function deliveryBalance(funds: FundsView, p2pOnly: boolean, network: NetworkId): DeliveryBalance {
  const perCoin = notificationValue();
  const balance: DeliveryBalance = {
    spendable: funds.spendable,
    lockedInPending: funds.locked,
    costPerMessage: funds.costPerMessage,
    messagesLeft: funds.messagesLeft,
    pendingMessages: Number((funds.locked + perCoin - 1n) / perCoin),
    p2pOnly,
  };
  const topUpUrl = NETWORKS[network].topUpUrl;
  return topUpUrl === undefined ? balance : { ...balance, topUpUrl };
}

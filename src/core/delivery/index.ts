/** The delivery engine's public surface: engine, ports to implement, records and errors. */
export {
  DeliveryEngine,
  DEFAULT_DELIVERY_SETTINGS,
  type ConnectionState,
  type DeliveryEvent,
  type DeliveryOptions,
  type DeliverySettings,
  type FundsView,
} from './engine.ts';
export { DeliveryError, type DeliveryErrorCode } from './errors.ts';
export { systemClock, ManualClock, type Clock, type Timer } from './clock.ts';
export { DELIVERY_STORES } from './store.ts';
export { TransportLinks } from './links.ts';
export { KaspaChain, COINS_STORE, type KaspaChainOptions } from './kaspa-chain.ts';
export {
  buildPayment,
  notificationValue,
  typicalPublicationFee,
  DEFAULT_NOTIFICATION_STORAGE_BUDGET,
} from './chain-tx.ts';
export { EnvelopeSessions, contactIdOf, type EnvelopeSessionsOptions } from './sessions.ts';
export type {
  ChainProof,
  FailureReason,
  IncomingMessage,
  Message,
  OutgoingMessage,
  OutgoingStatus,
  Route,
} from './messages.ts';
export type * from './ports.ts';

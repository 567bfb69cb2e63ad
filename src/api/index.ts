/**
 * The public TypeScript entry point, `import { Messenger } from 'p2pcomm'` (package.json
 * `exports`). docs/api.md describes it with examples the tests run.
 */
export {
  Messenger,
  defaultDataDir,
  type ActionOptions,
  type CallOptions,
  type MessengerEvent,
  type MessengerOptions,
  type SendWait,
} from './messenger.ts';
export {
  AppApiError,
  MAX_MESSAGE_LENGTH,
  REACTIONS,
  type AppApiErrorCode,
  type AppSettings,
  type ChatMessage,
  type ConnectionState,
  type ContactId,
  type ContactSummary,
  type CreatedIdentity,
  type DeliveryBalance,
  type DeliveryProof,
  type IceServer,
  type IdentitySummary,
  type MessageId,
  type MessageRequestSummary,
  type MessageStatus,
  type NetworkId,
  type NetworkState,
  type VaultState,
} from '../web/app-api.ts';
export { StorageError, type StorageErrorCode } from '../storage/errors.ts';

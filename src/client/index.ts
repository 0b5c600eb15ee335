// The client SDK (`edge402/client`): an auto-paying `fetch` over edge402 payment channels, the
// channel stores, channel management (list, top up, close, settle), the spending policy
// helpers and the client's error codes. It follows PROTOCOL.md only and talks to any server
// that speaks it; it imports nothing from the Worker.
export { createEdge402Client, wrapFetch, type Edge402Client, type Edge402ClientOptions } from "./client.js";
export {
  ClientErrorCodes,
  Edge402Error,
  isEdge402Error,
  type ClientErrorCode,
  type Edge402ErrorCode,
} from "./errors.js";
export type { ChainAction, ChannelRef, Hooks, PaymentContext, PaymentReceipt, ProgressEvent } from "./hooks.js";
export type { ChannelSummary, CloseResult, SettleResult, TopUpResult } from "./channels.js";
export { MemoryChannelStore, parseStoredChannels, type ChannelStore, type StoredChannel } from "./store.js";
export { FileChannelStore } from "./file-store.js";
export {
  DEFAULT_DEPOSIT_MULTIPLE,
  DEFAULT_PREPAY_MULTIPLE,
  resolvePolicy,
  type DepositPolicy,
  type PrepayPolicy,
  type SpendLimits,
} from "./policy.js";
export { readChannelReport, readTerms, type Terms } from "./response.js";

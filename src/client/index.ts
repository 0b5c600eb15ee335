// `edge402/client`: pay for HTTP requests through edge402 payment channels. It follows
// PROTOCOL.md only, so it pays any server that speaks it, and imports nothing from the Worker.
// Start at `createEdge402Client`.
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
export type { ChannelReport } from "./ledger.js";

// `edge402/worker`, and the Worker entry itself: a deployment configured only by its vars (the
// demo routes, the PROXY_ROUTES forwarded to ORIGIN_URL) needs no code of its own, and a library
// user wires the same Worker with `createWorker` and its own routes (worker.ts).
import { createWorker } from "./worker.js";

export { ChannelObject } from "./channel/object.js";
export { ReceiverObject } from "./receiver/object.js";
export { runSync, type SyncReport, type SyncOptions } from "./sync/run.js";
export { settlementAdmin } from "./settlement/admin.js";
export { FlowObject } from "./flow/object.js";
export { LookupObject } from "./lookup/object.js";
export { createApp, type AppRoute } from "./app.js";
export { paywall, type PaywallOptions } from "./paywall.js";
export { paymentCors } from "./http/cors.js";
export { managementApi } from "./api/management.js";
export { adminApi } from "./api/admin.js";
export { documented, openApiDocument, type RouteDoc } from "./api/openapi.js";
export { createWorker, type Edge402Worker, type FetchFallback, type WorkerOptions } from "./worker.js";
export { REQUIRED_VARS, type Edge402Bindings, type Env, type RequiredVar } from "./env.js";

/**
 * The Worker of a deployment configured by its vars alone: `createWorker()` with no routes of its
 * own (demo routes when DEMO_ROUTES=true, PROXY_ROUTES forwarded to ORIGIN_URL, the admin chain
 * actions), and the cron's chain sync.
 *
 * @example
 * ```ts
 * // The Worker's main module (wrangler.jsonc "main"), with a cron trigger for the sync:
 * export { default, ChannelObject, ReceiverObject, FlowObject, LookupObject } from "edge402/worker";
 * ```
 */
export default createWorker();

// The Worker entry: the paywall app built from this deployment's configuration (the demo
// routes when DEMO_ROUTES=true, the PROXY_ROUTES forwarded to ORIGIN_URL) with the admin chain
// actions, the Durable Object classes (channels, the receiver's transaction sender), and the
// scheduled handler (the chain sync, src/worker/sync/run.ts): `createWorker()` of worker.ts.
// Library users import from here too (`edge402/worker`): `createWorker` with their own routes
// wires the same Worker, or `paywall()` and `managementApi()` go into an app of their own.
import { createWorker } from "./worker.js";

export { ChannelObject } from "./channel/object.js";
export { ReceiverObject } from "./receiver/object.js";
export { runSync, type SyncReport, type SyncOptions } from "./sync/run.js";
export { settlementAdmin } from "./settlement/admin.js";
export { FlowObject } from "./flow/object.js";
export { LookupObject } from "./lookup/object.js";
export { createApp, type AppRoute } from "./app.js";
export { paywall, type PaywallOptions } from "./paywall.js";
export { managementApi } from "./api/management.js";
export { adminApi } from "./api/admin.js";
export { createWorker, type Edge402Worker, type FetchFallback, type WorkerOptions } from "./worker.js";
export { REQUIRED_VARS, type Edge402Bindings, type Env, type RequiredVar } from "./env.js";

export default createWorker();

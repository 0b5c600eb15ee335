// The Worker's env type, written out here so that it stands alone: a project that installs
// edge402 has its own generated `Cloudflare.Env` (its wrangler config, its other bindings), so
// the published type cannot be built on ours. It names the bindings edge402 needs, the vars and
// secrets without a default (REQUIRED_VARS; config.ts refuses to start without them) and every
// other var config.ts reads, optional. A project's generated `Env` that declares these is
// assignable to it; src/worker/env.test.ts checks that this repo's worker-configuration.d.ts
// (`npm run types`) still is, and that REQUIRED_VARS matches config.ts.
import type { ChannelObject } from "./channel/object.js";
import type { ConfigVar } from "./config.js";
import type { FlowObject } from "./flow/object.js";
import type { ReceiverObject } from "./receiver/object.js";

/** The vars and secrets with no default: a deployment must set each of them. */
export const REQUIRED_VARS = [
  "CHAIN_ID",
  "RPC_URL",
  "CONTRACT_ADDRESS",
  "TOKEN_ADDRESS",
  "RECEIVER_PRIVATE_KEY",
  "ADMIN_TOKEN",
  "SESSION_SECRET",
] as const satisfies readonly ConfigVar[];
export type RequiredVar = (typeof REQUIRED_VARS)[number];

/** The bindings edge402 uses, under the names its wrangler config gives them. */
export interface Edge402Bindings {
  /** D1 with the migrations in the package's migrations/ folder. */
  DB: D1Database;
  /** One ChannelObject per channel (SQLite-backed Durable Object). */
  CHANNELS: DurableObjectNamespace<ChannelObject>;
  /** The receiver's one transaction sender. */
  RECEIVER: DurableObjectNamespace<ReceiverObject>;
  /** One FlowObject per free client. */
  FLOW: DurableObjectNamespace<FlowObject>;
}

type RequiredVars = { [K in RequiredVar]: string };
type OptionalVars = { [K in Exclude<ConfigVar, RequiredVar>]?: string };

/** What the Worker, its Durable Objects and the scheduled sync receive as `env`. */
export interface Env extends Edge402Bindings, RequiredVars, OptionalVars {}

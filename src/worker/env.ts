// The Worker's env type, written out here so that it stands alone: a project that installs
// edge402 has its own generated `Cloudflare.Env` (its wrangler config, its other bindings), so
// the published type cannot be built on ours. It names the bindings edge402 needs, the vars and
// secrets without a default (REQUIRED_VARS; config.ts refuses to start without them) and every
// other var config.ts reads, optional. A project's generated `Env` that declares these is
// assignable to it; src/worker/env.test.ts checks that this repo's worker-configuration.d.ts
// (`npm run types`) still is, and that REQUIRED_VARS matches config.ts.
import type { ConfigVar } from "./config.js";
import type { ProjectionMessage } from "./projection/message.js";

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

/** A Durable Object namespace of any class: the stub modules type each binding with its class. */
// biome-ignore lint/suspicious/noExplicitAny: any class, so that a project's generated namespace types fit
type AnyNamespace = DurableObjectNamespace<any>;

/** The bindings edge402 uses, under the names its wrangler config gives them. */
export interface Edge402Bindings {
  /** D1 with the migrations in the package's migrations/ folder. */
  DB: D1Database;
  // The namespaces are untyped here so that the type graph has no cycle (each object's class
  // takes this Env); each stub module (channel/stub.ts, flow/stub.ts, receiver/stub.ts,
  // lookup/learn.ts) types its own binding with its class.
  /** One ChannelObject per channel (SQLite-backed Durable Object). */
  CHANNELS: AnyNamespace;
  /** The receiver's one transaction sender. */
  RECEIVER: AnyNamespace;
  /** One FlowObject per free client. */
  FLOW: AnyNamespace;
  /** The one LookupObject: the strangers' chain look-up budget. */
  LOOKUPS: AnyNamespace;
  /** The projection queue: channel objects send their D1 rows here, the Worker's `queue()`
   *  consumes them in batches. Without it each object writes its own row to D1. With
   *  PROJECTION_SHARDS > 1 it is required, and shard i ≥ 1 uses the bindings DB_SHARD_<i> and
   *  PROJECTION_<i>, looked up by name (config.ts checks them, projection/shards.ts uses them). */
  PROJECTION?: Queue<ProjectionMessage>;
  /** Workers Analytics Engine dataset for the traffic counters (src/worker/traffic); used when
   *  ANALYTICS_ACCOUNT_ID and ANALYTICS_API_TOKEN let the Worker read it back, else D1 keeps them. */
  ANALYTICS?: AnalyticsEngineDataset;
}

type RequiredVars = { [K in RequiredVar]: string };
type OptionalVars = { [K in Exclude<ConfigVar, RequiredVar>]?: string };

/**
 * What the Worker, its Durable Objects and the scheduled sync receive as `env`: the D1 and
 * Durable Object bindings, and the vars and secrets of the configuration. It stands alone, so a
 * project's own generated `Env` with more bindings satisfies it.
 *
 * @example
 * ```ts
 * const app = new Hono<{ Bindings: Env }>();
 * ```
 */
export interface Env extends Edge402Bindings, RequiredVars, OptionalVars {}

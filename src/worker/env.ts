// The Worker's env type, from what `wrangler types` generates (so it cannot drift from
// wrangler.jsonc) plus the optional vars config.ts reads that wrangler.jsonc leaves unset.
import type { ConfigVar } from "./config.js";

/** The vars config.ts understands that wrangler.jsonc does not set: all optional strings. */
type OptionalVars = { [K in Exclude<ConfigVar, keyof Cloudflare.Env>]?: string };

/**
 * What the Worker, its Durable Objects and the scheduled sync receive as `env`: the D1 and
 * Durable Object bindings, and the vars and secrets of the configuration.
 *
 * @example
 * ```ts
 * const app = new Hono<{ Bindings: Env }>();
 * ```
 */
export interface Env extends Cloudflare.Env, OptionalVars {}

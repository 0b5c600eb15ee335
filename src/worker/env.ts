// The Worker's env type: the bindings, vars and secrets declared in wrangler.jsonc, as
// `wrangler types` generates them into worker-configuration.d.ts (Cloudflare.Env; `npm run
// types` regenerates it, CI fails while it is stale), plus every other var src/worker/config.ts
// reads, optional because wrangler.jsonc leaves them unset so their defaults apply.
import type { ConfigVar } from "./config.js";

/** The vars config.ts understands that wrangler.jsonc does not set: all optional strings. */
type OptionalVars = { [K in Exclude<ConfigVar, keyof Cloudflare.Env>]?: string };

/** What the Worker, its Durable Objects and the scheduled sync receive as `env`. */
export interface Env extends Cloudflare.Env, OptionalVars {}

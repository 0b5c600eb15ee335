// `edge402/worker`, and the Worker entry itself: a deployment configured only by its vars (the
// demo routes, the PROXY_ROUTES forwarded to ORIGIN_URL) needs no code of its own, and a library
// user builds the same app from the same exports.
import type { Hono } from "hono";
import { createApp, type AppRoute } from "./app.js";
import { getConfig } from "./config.js";
import type { Env } from "./env.js";
import { demoRoutes } from "./demo.js";
import { proxyToOrigin } from "./proxy.js";
import { settlementAdmin } from "./settlement/admin.js";
import { runSync } from "./sync/run.js";

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
export type { Env } from "./env.js";

const apps = new WeakMap<object, Hono<{ Bindings: Env }>>();

function appFor(env: Env): Hono<{ Bindings: Env }> {
  let app = apps.get(env);
  if (!app) {
    const config = getConfig(env);
    const proxied: AppRoute[] = config.proxyRoutes.map(({ path, method, ...options }) => ({
      method,
      path,
      options: { ...options, price: options.price === undefined ? undefined : BigInt(options.price) },
      handler: proxyToOrigin(),
    }));
    app = createApp({ routes: [...(config.demoRoutes ? demoRoutes : []), ...proxied], admin: settlementAdmin });
    apps.set(env, app);
  }
  return app;
}

/**
 * The Worker of a deployment configured by its vars alone: the app (demo routes when
 * DEMO_ROUTES=true, PROXY_ROUTES forwarded to ORIGIN_URL, the admin chain actions), built once
 * per isolate, and the cron's chain sync.
 *
 * @example
 * ```ts
 * // The Worker's main module (wrangler.jsonc "main"), with a cron trigger for the sync:
 * export { default, ChannelObject, ReceiverObject, FlowObject, LookupObject } from "edge402/worker";
 * ```
 */
export default {
  fetch(request, env, ctx) {
    return appFor(env).fetch(request, env, ctx);
  },
  scheduled(_controller, env, ctx) {
    ctx.waitUntil(runSync(env));
  },
} satisfies ExportedHandler<Env>;

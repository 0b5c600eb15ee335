// The whole Worker in one call, for projects that install edge402: `createWorker(options)`
// returns the `fetch`, `scheduled` and `queue` handlers of a Worker that serves the given priced routes
// (plus PROXY_ROUTES to ORIGIN_URL and, with DEMO_ROUTES=true, the demo routes) behind the
// paywall, the management and admin APIs under /api/1 with the settlement actions, and the
// chain sync on the cron trigger, and the D1 projection's queue consumer. A request no edge402 route matches goes to `fallback` (the
// project's own Hono app, say) when one is given. The project's main module exports the result
// as its default and re-exports ChannelObject, FlowObject, LookupObject and ReceiverObject, which wrangler
// binds by class name. This repo's own Worker (src/worker/index.ts) is `createWorker()`.
import type { Hono } from "hono";
import { createApp, type AppRoute } from "./app.js";
import { getConfig } from "./config.js";
import type { Env } from "./env.js";
import { demoRoutes } from "./demo.js";
import { consumeProjection } from "./projection/consumer.js";
import { proxyToOrigin } from "./proxy.js";
import { settlementAdmin } from "./settlement/admin.js";
import { runSync } from "./sync/run.js";

/** Anything with a Worker-style fetch, e.g. a Hono app. */
export type FetchFallback = {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response>;
};

export type WorkerOptions = {
  /** Priced routes: method, path, paywall options and the handler that answers once paid. */
  routes?: AppRoute[];
  /** Answers every request that no edge402 route matches (default: a JSON `not_found`). */
  fallback?: FetchFallback;
};

export type Edge402Worker = {
  fetch: ExportedHandlerFetchHandler<Env>;
  scheduled: ExportedHandlerScheduledHandler<Env>;
  queue: ExportedHandlerQueueHandler<Env>;
};

export function createWorker(options: WorkerOptions = {}): Edge402Worker {
  // One app per env object, i.e. per isolate: built on the first request from the validated config.
  const apps = new WeakMap<object, Hono<{ Bindings: Env }>>();
  const appFor = (env: Env): Hono<{ Bindings: Env }> => {
    let app = apps.get(env);
    if (!app) {
      const config = getConfig(env);
      const proxied: AppRoute[] = config.proxyRoutes.map(({ path, method, ...route }) => ({
        method,
        path,
        options: { ...route, price: route.price === undefined ? undefined : BigInt(route.price) },
        handler: proxyToOrigin(),
      }));
      const routes = [...(config.demoRoutes ? demoRoutes : []), ...proxied, ...(options.routes ?? [])];
      app = createApp({ routes, admin: settlementAdmin });
      const fallback = options.fallback;
      if (fallback) app.notFound((c) => fallback.fetch(c.req.raw, c.env, c.executionCtx as ExecutionContext));
      apps.set(env, app);
    }
    return app;
  };
  return {
    fetch(request, env, ctx) {
      return appFor(env).fetch(request, env, ctx);
    },
    scheduled(_controller, env, ctx) {
      ctx.waitUntil(runSync(env));
    },
    // The projection queues (PROJECTION, and PROJECTION_<i> when sharded) are the only queues it consumes.
    async queue(batch, env) {
      await consumeProjection(batch, env);
    },
  };
}

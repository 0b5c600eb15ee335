// Builds the paywall's Hono app: the management, browser and admin APIs under /api/1, each priced route
// behind its paywall middleware, and one error handler that turns anything thrown into the
// protocol's JSON error body. Library users call `createApp` with their own routes, or mount
// `paywall()` and `managementApi()` in an app of their own.
import { Hono, type Handler } from "hono";
import { GATEWAY_PATH } from "../protocol/headers.js";
import { adminApi } from "./api/admin.js";
import { managementApi, type PricedRoute } from "./api/management.js";
import { webApi } from "./api/web.js";
import { ConfigError } from "./config.js";
import type { Env } from "./env.js";
import { errorResponse } from "./http/responses.js";
import { paywall } from "./paywall.js";

export type AppRoute = PricedRoute & { handler: Handler<{ Bindings: Env }> };

export type CreateAppOptions = {
  routes: AppRoute[];
  /** Extra admin routes (chain actions), mounted behind the admin token. */
  admin?: (api: Hono<{ Bindings: Env }>) => void;
};

export function createApp({ routes, admin }: CreateAppOptions) {
  const app = new Hono<{ Bindings: Env }>();
  const adminRoutes = adminApi();
  admin?.(adminRoutes);
  app.route(GATEWAY_PATH, managementApi(routes));
  app.route(GATEWAY_PATH, webApi());
  app.route(`${GATEWAY_PATH}/admin`, adminRoutes);
  for (const r of routes) app.on(r.method, r.path, paywall(r.options), r.handler);

  app.notFound((c) =>
    errorResponse(c, "not_found", { message: `No route for ${c.req.method} ${new URL(c.req.url).pathname}.` }),
  );
  app.onError((err, c) => {
    if (err instanceof ConfigError) return errorResponse(c, "internal_error", { message: err.message });
    console.error("edge402: unhandled error", err);
    return errorResponse(c, "internal_error");
  });
  return app;
}

// Builds the paywall's Hono app: the management, browser and admin APIs under /api/1, the
// operator's dashboard at /admin, each priced route behind its paywall middleware, CORS on the
// API and the priced routes (by CORS_ORIGINS), and one error handler that turns anything thrown
// into the protocol's JSON error body. Library users call `createApp` with their own routes, or
// mount `paywall()` and `managementApi()` in an app of their own.
import { Hono, type Handler } from "hono";
import * as z from "zod/mini";
import { GATEWAY_PATH } from "../protocol/headers.js";
import { adminApi } from "./api/admin.js";
import { dashboardAdmin } from "./api/admin-dashboard.js";
import { dashboardApp } from "./api/dashboard.js";
import { managementApi, type PricedRoute } from "./api/management.js";
import { documented, openApiDocument } from "./api/openapi.js";
import { webApi } from "./api/web.js";
import { ConfigError } from "./config.js";
import type { Env } from "./env.js";
import { DASHBOARD_PATH } from "./http/admin-cookie.js";
import { paymentCors } from "./http/cors.js";
import { errorResponse } from "./http/responses.js";
import { errorText, log, LogEvents } from "./log.js";
import { paywall } from "./paywall.js";

/** A priced route of `createApp`: its method, path, paywall options and handler. */
export type AppRoute = PricedRoute & { handler: Handler<{ Bindings: Env }> };

/** The options of `createApp`. */
export type CreateAppOptions = {
  routes: AppRoute[];
  /** Extra admin routes (chain actions), mounted behind the admin token. */
  admin?: (api: Hono<{ Bindings: Env }>) => void;
};

/**
 * The paywall's whole Hono app: the management and admin APIs under `/api/1`, each route behind
 * its `paywall()`, and one error handler that answers the protocol's JSON error body.
 *
 * @param options - `routes` (method, path, paywall options, handler) and `admin`, extra admin
 *   routes such as `settlementAdmin`.
 * @returns The Hono app; its `fetch` is the Worker's.
 * @throws Error at once when a route's paywall options are invalid (see `paywall`).
 * @example
 * ```ts
 * import { createApp, runSync, settlementAdmin, type Env } from "edge402/worker";
 * export { ChannelObject, ReceiverObject, FlowObject, LookupObject } from "edge402/worker";
 *
 * const app = createApp({
 *   routes: [{ method: "GET", path: "/joke", options: { price: 10n }, handler: (c) => c.text("…") }],
 *   admin: settlementAdmin,
 * });
 * export default {
 *   fetch: app.fetch,
 *   scheduled: (_c, env, ctx) => ctx.waitUntil(runSync(env)),
 * } satisfies ExportedHandler<Env>;
 * ```
 */
export function createApp({ routes, admin }: CreateAppOptions) {
  const app = new Hono<{ Bindings: Env }>();
  const adminRoutes = adminApi();
  dashboardAdmin(adminRoutes);
  admin?.(adminRoutes);
  // CORS first, so a preflight is answered before any paywall, admin check or handler.
  const cors = paymentCors();
  app.use(`${GATEWAY_PATH}/*`, cors);
  for (const path of new Set(routes.map((r) => r.path))) app.use(path, cors);
  app.route(GATEWAY_PATH, managementApi(routes));
  app.route(GATEWAY_PATH, webApi());
  app.route(`${GATEWAY_PATH}/admin`, adminRoutes);
  app.route(DASHBOARD_PATH, dashboardApp());
  // Built from the app's own routes on first use, so it lists exactly what this app mounts.
  let openApi: ReturnType<typeof openApiDocument> | undefined;
  const openApiDoc = {
    summary: "This document: the OpenAPI 3.1 description of the API under /api/1",
    ok: z.looseObject({}),
  };
  app.get(
    `${GATEWAY_PATH}/openapi.json`,
    documented(openApiDoc, (c) => {
      openApi ??= openApiDocument(app.routes);
      return c.json(openApi);
    }),
  );
  for (const r of routes) app.on(r.method, r.path, paywall(r.options), r.handler);

  app.notFound((c) =>
    errorResponse(c, "not_found", { message: `No route for ${c.req.method} ${new URL(c.req.url).pathname}.` }),
  );
  app.onError((err, c) => {
    if (err instanceof ConfigError) return errorResponse(c, "internal_error", { message: err.message });
    log.error(LogEvents.unhandledError, {
      method: c.req.method,
      path: new URL(c.req.url).pathname,
      error: errorText(err),
    });
    return errorResponse(c, "internal_error");
  });
  return app;
}

// The operator's dashboard at /admin: `GET /admin` (the dashboard when the login cookie is
// valid, else the login form), `POST /admin/login` (the admin token from the form, once: a
// right one sets the signed login cookie and goes back to /admin, a wrong one gets the form
// again with a message), `POST /admin/logout` (clears the cookie) and the dashboard's script
// (`GET /admin/assets/<content-hashed name>`, immutable). The views read the admin API, which
// accepts the same cookie (api/admin.ts).
import { Hono, type Context } from "hono";
import { timingSafeEqual } from "hono/utils/buffer";
import { getConfig } from "../config.js";
import type { Env } from "../env.js";
import {
  adminCookieHeaders,
  clearAdminCookieHeaders,
  DASHBOARD_PATH,
  issueAdminCookie,
  readAdminCookie,
  sameOrigin,
  verifyAdminCookie,
} from "../http/admin-cookie.js";
import { DASHBOARD_SCRIPT } from "../http/dashboard-asset.js";
import { DASHBOARD_HEADERS, dashboardPage, loginPage } from "../http/dashboard-page.js";
import { errorResponse } from "../http/responses.js";

type DashboardContext = Context<{ Bindings: Env }>;

/** The login form again, with `message`, under `status`. */
const loginAgain = (c: DashboardContext, message: string, status: 401 | 403) =>
  c.html(loginPage(message), status, DASHBOARD_HEADERS);

/** A 303 back to the dashboard, with `cookies` set. */
function backToDashboard(cookies: string[]): Response {
  const headers = new Headers({ Location: DASHBOARD_PATH, "Cache-Control": "no-store" });
  for (const cookie of cookies) headers.append("Set-Cookie", cookie);
  return new Response(null, { status: 303, headers });
}

/** POST /login: the token from the form, checked in constant time. */
async function login(c: DashboardContext): Promise<Response> {
  if (!sameOrigin(c.req.url, c.req.header("origin"), c.req.header("sec-fetch-site")))
    return loginAgain(c, "This login did not come from this page: log in here.", 403);
  let token = "";
  try {
    const form = await c.req.parseBody();
    if (typeof form.token === "string") token = form.token;
  } catch {
    // not a form: no token
  }
  const adminToken = getConfig(c.env).adminToken;
  if (token === "" || !(await timingSafeEqual(token, adminToken)))
    return loginAgain(c, "That is not the admin token.", 401);
  return backToDashboard(adminCookieHeaders(await issueAdminCookie(adminToken), c.req.url));
}

/**
 * The dashboard's Hono app; `createApp` mounts it at `/admin`.
 *
 * @returns A Hono app to mount at `DASHBOARD_PATH`.
 */
export function dashboardApp() {
  const app = new Hono<{ Bindings: Env }>();
  app.get("/", async (c) => {
    const cookie = readAdminCookie(c.req.header("cookie"));
    const loggedIn = cookie !== undefined && (await verifyAdminCookie(getConfig(c.env).adminToken, cookie));
    return c.html(loggedIn ? dashboardPage() : loginPage(), 200, DASHBOARD_HEADERS);
  });
  app.post("/login", login);
  app.post("/logout", (c) => {
    // Another site may not log the operator out either (a cross-site form would).
    if (!sameOrigin(c.req.url, c.req.header("origin"), c.req.header("sec-fetch-site")))
      return loginAgain(c, "This logout did not come from this page.", 403);
    return backToDashboard(clearAdminCookieHeaders(c.req.url));
  });
  app.get("/assets/:name", (c) => {
    if (c.req.param("name") !== DASHBOARD_SCRIPT.name) return errorResponse(c, "not_found");
    return c.body(DASHBOARD_SCRIPT.body, 200, {
      "Content-Type": "text/javascript; charset=utf-8",
      "Cache-Control": "public, max-age=31536000, immutable",
      "X-Content-Type-Options": "nosniff",
    });
  });
  return app;
}

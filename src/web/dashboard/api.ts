// The dashboard's calls to the admin API. The browser sends the login cookie by itself (same
// origin, SameSite=Strict) and an `Origin` header on every POST, which the admin API checks; the
// token never reaches this script. A 401 means the login expired or was revoked: the page
// reloads, and the Worker shows the login form.
import type { DashboardData } from "./data.js";
import type { Token } from "./format.js";

/** An admin API refusal, with the API's error code and message. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type Api = {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  /** The token's decimals and symbol, read once; null when the chain cannot tell. */
  token(): Promise<Token>;
};

async function answer<T>(res: Response): Promise<T> {
  if (res.status === 401) {
    location.reload();
    throw new ApiError("unauthorized", "The login has expired: log in again.");
  }
  const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
  if (!res.ok) {
    throw new ApiError(body?.error?.code ?? "http_error", body?.error?.message ?? `HTTP ${res.status}`);
  }
  return body as T;
}

export function adminApi(data: DashboardData): Api {
  const admin = `${data.gatewayPath}/admin`;
  let token: Promise<Token> | null = null;
  return {
    get: async (path) => answer(await fetch(`${admin}${path}`, { headers: { Accept: "application/json" } })),
    post: async (path, body) =>
      answer(
        await fetch(`${admin}${path}`, {
          method: "POST",
          headers: { Accept: "application/json", "Content-Type": "application/json" },
          body: JSON.stringify(body ?? {}),
        }),
      ),
    token() {
      token ??= fetch(`${data.gatewayPath}/token`)
        .then((res) => (res.ok ? (res.json() as Promise<{ decimals: number; symbol: string }>) : null))
        .then((t) => (t && Number.isInteger(t.decimals) && t.decimals >= 0 && t.decimals <= 77 ? t : null))
        .then((t) => (t ? { decimals: t.decimals, symbol: String(t.symbol).slice(0, 32) } : null))
        .catch(() => null);
      return token;
    },
  };
}

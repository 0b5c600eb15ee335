// The session cookie of a browser (PROTOCOL.md section 6): a served paid answer sets
// `RDN-Session` to its session token, so the browser's later requests spend the channel's
// credit with no script and no click. HttpOnly (no page script reads it), SameSite=Lax (sent on
// top-level navigations, not on other sites' subrequests), Path=/, living as long as the token,
// and Secure except on localhost (`localhost`, `*.localhost`, 127.0.0.0/8, [::1]), where a
// local run is plain HTTP.
import { RdnHeaders } from "../../protocol/headers.js";

const LOCAL_HOST = /^(localhost|.+\.localhost|127(\.[0-9]{1,3}){3}|\[::1\])$/i;

/** `; Secure` for a cookie set by a request to `url`, except on localhost (plain HTTP there). */
export function secureAttribute(url: string): string {
  return LOCAL_HOST.test(new URL(url).hostname) ? "" : "; Secure";
}

/** The Set-Cookie value carrying `token` for a request to `url`. */
export function sessionCookie(token: string, url: string, now = Math.floor(Date.now() / 1000)): string {
  const expiresAt = Number(token.split(".")[3]);
  const maxAge = Number.isFinite(expiresAt) ? Math.max(0, expiresAt - now) : 0;
  return `${RdnHeaders.session}=${token}; Max-Age=${maxAge}; Path=/; HttpOnly; SameSite=Lax${secureAttribute(url)}`;
}

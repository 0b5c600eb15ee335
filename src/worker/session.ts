// Session tokens: what a served paid request hands back in `RDN-Session` so the client can
// spend its prepaid credit without signing a new proof. A token is bound to one channel and
// expires; it is `s1.<sender hex>.<openBlock>.<expiry unix s>.<HMAC-SHA256, base64url>` keyed
// with SESSION_SECRET, so the Worker checks it without any state. It authorises spending
// credit only: the channel's object still refuses when the credit is short.
import { getAddress, type Address } from "viem";

export type SessionClaims = { sender: Address; openBlock: number; expiresAt: number };

const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    keys.set(secret, key);
  }
  return key;
}

function toBase64Url(bytes: ArrayBuffer): string {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(s: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]+$/.test(s)) return null;
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Issues a token for a channel, valid for `ttlSeconds` from `now` (unix seconds). */
export async function issueSession(
  secret: string,
  claims: { sender: Address; openBlock: number },
  ttlSeconds: number,
  now = Math.floor(Date.now() / 1000),
): Promise<string> {
  const body = `s1.${claims.sender.slice(2).toLowerCase()}.${claims.openBlock}.${now + ttlSeconds}`;
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), new TextEncoder().encode(body));
  return `${body}.${toBase64Url(mac)}`;
}

/** Checks a token's shape, MAC and expiry. Returns its claims, or null when it is not valid. */
export async function verifySession(
  secret: string,
  token: string,
  now = Math.floor(Date.now() / 1000),
): Promise<SessionClaims | null> {
  const m = /^s1\.([0-9a-f]{40})\.(0|[1-9][0-9]{0,9})\.([1-9][0-9]{0,11})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return null;
  const [, senderHex, openBlock, expiry, macText] = m as unknown as [string, string, string, string, string];
  const mac = fromBase64Url(macText);
  if (!mac) return null;
  const body = token.slice(0, token.length - macText.length - 1);
  const ok = await crypto.subtle.verify("HMAC", await hmacKey(secret), mac, new TextEncoder().encode(body));
  if (!ok || Number(expiry) <= now || Number(openBlock) > 0xffffffff) return null;
  return { sender: getAddress(`0x${senderHex}`), openBlock: Number(openBlock), expiresAt: Number(expiry) };
}

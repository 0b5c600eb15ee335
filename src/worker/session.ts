// Session tokens: a served paid request hands one back (`RDN-Session`) so the client spends its
// credit without signing a proof per request. The token is an HMAC over its channel and expiry,
// checked without state; it authorises spending credit only (the channel's object still refuses
// a short credit). Two bounded caches skip the HMAC on the hot path, never changing its answer.
import { getAddress, type Address } from "viem";
import { BoundedMap } from "./bounded-map.js";

export type SessionClaims = { sender: Address; openBlock: number; expiresAt: number };

/** How many entries each cache holds at most; past it the oldest entry goes. */
export const SESSION_CACHE_LIMIT = 10_000;

const keys = new Map<string, Promise<CryptoKey>>();
const encoder = new TextEncoder();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    keys.set(secret, key);
  }
  return key;
}

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Unpadded base64url (RFC 4648 section 5) of `bytes`. */
export function toBase64Url(bytes: ArrayBuffer | Uint8Array): string {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let s = "";
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    s += B64URL[n >> 18]! + B64URL[(n >> 12) & 63]! + B64URL[(n >> 6) & 63]! + B64URL[n & 63]!;
  }
  const rest = b.length - i;
  if (rest === 1) {
    const n = b[i]! << 16;
    s += B64URL[n >> 18]! + B64URL[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8);
    s += B64URL[n >> 18]! + B64URL[(n >> 12) & 63]! + B64URL[(n >> 6) & 63]!;
  }
  return s;
}

/** The bytes of unpadded base64url `s`; null when it is not base64url, or not the one encoding
 *  of its bytes (the unused low bits of its last character set): a signed value has exactly one
 *  accepted spelling, so a tampered character never passes for the original. */
export function fromBase64Url(s: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]+$/.test(s) || s.length % 4 === 1) return null;
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return toBase64Url(out) === s ? out : null;
}

/** token → the secret it verified under and its claims. */
const verified = new BoundedMap<string, { secret: string; claims: SessionClaims }>(SESSION_CACHE_LIMIT);
/** `<secret>\0<sender lowercase hex>.<openBlock>` → the token last handed out for it. */
const issued = new BoundedMap<string, { token: string; expiresAt: number }>(SESSION_CACHE_LIMIT);

/** The caches' sizes, and a way to empty them (for tests). */
export const sessionCaches = {
  sizes: () => ({ verified: verified.size, issued: issued.size }),
  isVerified: (token: string) => verified.has(token),
  clear: () => {
    verified.clear();
    issued.clear();
  },
};

function remember(secret: string, token: string, claims: SessionClaims): void {
  verified.set(token, { secret, claims });
}

/** Issues a token for a channel, valid for `ttlSeconds` from `now` (unix seconds):
 *  `s1.<sender hex>.<openBlock>.<expiry unix s>.<HMAC-SHA256 with SESSION_SECRET, base64url>`. */
export async function issueSession(
  secret: string,
  claims: { sender: Address; openBlock: number },
  ttlSeconds: number,
  now = Math.floor(Date.now() / 1000),
): Promise<string> {
  const expiresAt = now + ttlSeconds;
  const body = `s1.${claims.sender.slice(2).toLowerCase()}.${claims.openBlock}.${expiresAt}`;
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(body));
  const token = `${body}.${toBase64Url(mac)}`;
  remember(secret, token, { sender: getAddress(claims.sender), openBlock: claims.openBlock, expiresAt });
  return token;
}

/**
 * The token a served paid request hands back: `presented` (the session token the request
 * spent, if any) or the token last handed out for this channel when it is still valid for
 * more than half of `ttlSeconds`; otherwise a newly issued one.
 */
export async function sessionToken(
  secret: string,
  claims: { sender: Address; openBlock: number },
  ttlSeconds: number,
  presented?: { token: string; expiresAt: number },
  now = Math.floor(Date.now() / 1000),
): Promise<string> {
  const fresh = (t: { expiresAt: number }) => t.expiresAt - now > ttlSeconds / 2;
  if (presented && fresh(presented)) return presented.token;
  const key = `${secret}\0${claims.sender.slice(2).toLowerCase()}.${claims.openBlock}`;
  const last = issued.get(key);
  if (last && fresh(last)) return last.token;
  const token = await issueSession(secret, claims, ttlSeconds, now);
  issued.set(key, { token, expiresAt: now + ttlSeconds });
  return token;
}

/** Checks a token's shape, MAC and expiry. Returns its claims, or null when it is not valid. */
export async function verifySession(
  secret: string,
  token: string,
  now = Math.floor(Date.now() / 1000),
): Promise<SessionClaims | null> {
  const hit = verified.get(token);
  if (hit && hit.secret === secret) {
    if (hit.claims.expiresAt > now) return { ...hit.claims };
    verified.delete(token);
    return null;
  }
  const m = /^s1\.([0-9a-f]{40})\.(0|[1-9][0-9]{0,9})\.([1-9][0-9]{0,11})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return null;
  const [, senderHex, openBlock, expiry, macText] = m as unknown as [string, string, string, string, string];
  const mac = fromBase64Url(macText);
  if (!mac) return null;
  const body = token.slice(0, token.length - macText.length - 1);
  const ok = await crypto.subtle.verify("HMAC", await hmacKey(secret), mac, encoder.encode(body));
  if (!ok || Number(expiry) <= now || Number(openBlock) > 0xffffffff) return null;
  const claims: SessionClaims = {
    sender: getAddress(`0x${senderHex}`),
    openBlock: Number(openBlock),
    expiresAt: Number(expiry),
  };
  remember(secret, token, claims);
  return claims;
}

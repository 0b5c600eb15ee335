// Session tokens in Node (crypto.subtle is the same Web Crypto API as in workerd): the direct
// base64url encoder against the btoa path it replaced, issue/verify round trips, the verified-
// token cache (reuse, expiry, secret binding, eviction) and the token handed back on a served
// request (the presented or last issued one while it has more than half its TTL left).
import { beforeEach, describe, expect, it } from "vitest";
import { getAddress } from "viem";
import {
  fromBase64Url,
  issueSession,
  SESSION_CACHE_LIMIT,
  sessionCaches,
  sessionToken,
  toBase64Url,
  verifySession,
} from "./session.js";

const SECRET = "session-secret-0123456789abcdef";
const OTHER = "another-secret-0123456789abcdef";
const sender = getAddress("0x1234567890abcdef1234567890abcdef12345678");
const NOW = 1_800_000_000;

function btoaBase64Url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

beforeEach(() => sessionCaches.clear());

describe("toBase64Url", () => {
  it("matches RFC 4648 vectors, unpadded", () => {
    const enc = (s: string) => toBase64Url(new TextEncoder().encode(s));
    expect(["", "f", "fo", "foo", "foob", "fooba", "foobar"].map(enc)).toEqual([
      "",
      "Zg",
      "Zm8",
      "Zm9v",
      "Zm9vYg",
      "Zm9vYmE",
      "Zm9vYmFy",
    ]);
    expect(toBase64Url(new Uint8Array([0xfb, 0xff, 0xbf]))).toBe("-_-_");
  });

  it("matches the btoa path on every length 0..70 and every byte value", () => {
    const all = new Uint8Array(256).map((_, i) => i);
    expect(toBase64Url(all)).toBe(btoaBase64Url(all));
    for (let n = 0; n <= 70; n++) {
      const bytes = crypto.getRandomValues(new Uint8Array(n));
      expect(toBase64Url(bytes)).toBe(btoaBase64Url(bytes));
      expect(toBase64Url(bytes.buffer)).toBe(btoaBase64Url(bytes));
    }
  });
});

describe("fromBase64Url", () => {
  it("reads only the one encoding of its bytes: unused low bits set in the last character are refused", () => {
    const mac = new Uint8Array(32).fill(7); // 32 bytes: 43 characters, the last carries 2 unused bits
    const canonical = toBase64Url(mac);
    expect(fromBase64Url(canonical)).toEqual(mac);
    const last = canonical.at(-1)!;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const twin = `${canonical.slice(0, -1)}${alphabet[alphabet.indexOf(last) + 1]}`;
    // The same bytes under another spelling: the decoder alone would read it as `mac`.
    expect(atob(twin.replace(/-/g, "+").replace(/_/g, "/"))).toBe(
      atob(canonical.replace(/-/g, "+").replace(/_/g, "/")),
    );
    expect(fromBase64Url(twin)).toBeNull();
    expect(fromBase64Url("Zg")).toEqual(new Uint8Array([0x66]));
    expect(fromBase64Url("Zh")).toBeNull();
    expect(fromBase64Url("Z")).toBeNull();
  });

  it("refuses a session token whose MAC is re-spelled with the unused bits set", async () => {
    const token = await issueSession(SECRET, { sender, openBlock: 7 }, 600, NOW);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    // A canonical last character has its 2 unused bits clear: the next one sets the lowest.
    const twin = `${token.slice(0, -1)}${alphabet[alphabet.indexOf(token.at(-1)!) + 1]}`;
    sessionCaches.clear();
    expect(await verifySession(SECRET, twin, NOW)).toBeNull();
    expect(await verifySession(SECRET, token, NOW)).not.toBeNull();
  });
});

describe("issueSession / verifySession", () => {
  it("issues a token whose MAC is the HMAC-SHA256 of its body and verifies it", async () => {
    const token = await issueSession(SECRET, { sender, openBlock: 7 }, 600, NOW);
    const body = `s1.${sender.slice(2).toLowerCase()}.7.${NOW + 600}`;
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(SECRET),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body)));
    expect(token).toBe(`${body}.${btoaBase64Url(mac)}`);
    sessionCaches.clear();
    expect(await verifySession(SECRET, token, NOW)).toEqual({ sender, openBlock: 7, expiresAt: NOW + 600 });
    // Now from the cache: the same claims, still checksummed.
    expect(await verifySession(SECRET, token, NOW + 1)).toEqual({ sender, openBlock: 7, expiresAt: NOW + 600 });
  });

  it("refuses a cached token once expired, under another secret, or tampered", async () => {
    const token = await issueSession(SECRET, { sender, openBlock: 7 }, 600, NOW);
    expect(await verifySession(SECRET, token, NOW)).not.toBeNull();
    expect(await verifySession(OTHER, token, NOW)).toBeNull();
    const tampered = token.slice(0, -2) + (token.endsWith("AA") ? "BB" : "AA");
    expect(await verifySession(SECRET, tampered, NOW)).toBeNull();
    expect(await verifySession(SECRET, token, NOW + 600)).toBeNull();
    expect(sessionCaches.isVerified(token)).toBe(false);
    // Out of the cache, the full check still decides by the token alone.
    expect(await verifySession(SECRET, token, NOW + 599)).toEqual({ sender, openBlock: 7, expiresAt: NOW + 600 });
    expect(sessionCaches.isVerified(token)).toBe(true);
  });

  it("refuses a token issued under another secret even when it is cached", async () => {
    const foreign = await issueSession(OTHER, { sender, openBlock: 7 }, 600, NOW);
    expect(sessionCaches.isVerified(foreign)).toBe(true);
    expect(await verifySession(SECRET, foreign, NOW)).toBeNull();
    expect(await verifySession(OTHER, foreign, NOW)).not.toBeNull();
  });

  it("keeps at most SESSION_CACHE_LIMIT verified tokens, dropping the oldest first", async () => {
    const tokens: string[] = [];
    for (let i = 0; i <= SESSION_CACHE_LIMIT; i++)
      tokens.push(await issueSession(SECRET, { sender, openBlock: i }, 600, NOW));
    expect(sessionCaches.sizes().verified).toBe(SESSION_CACHE_LIMIT);
    expect(sessionCaches.isVerified(tokens[0]!)).toBe(false);
    expect(sessionCaches.isVerified(tokens[1]!)).toBe(true);
    expect(sessionCaches.isVerified(tokens[SESSION_CACHE_LIMIT]!)).toBe(true);
    // The evicted token still verifies (by its MAC) and comes back as the newest entry.
    expect(await verifySession(SECRET, tokens[0]!, NOW)).toEqual({ sender, openBlock: 0, expiresAt: NOW + 600 });
    expect(sessionCaches.isVerified(tokens[0]!)).toBe(true);
    expect(sessionCaches.isVerified(tokens[1]!)).toBe(false);
  });
});

describe("sessionToken", () => {
  const ch = { sender, openBlock: 9 };

  it("hands back the presented token while it has more than half its TTL left", async () => {
    const presented = await issueSession(SECRET, ch, 600, NOW);
    expect(await sessionToken(SECRET, ch, 600, { token: presented, expiresAt: NOW + 600 }, NOW + 299)).toBe(presented);
    const renewed = await sessionToken(SECRET, ch, 600, { token: presented, expiresAt: NOW + 600 }, NOW + 300);
    expect(renewed).not.toBe(presented);
    expect(await verifySession(SECRET, renewed, NOW + 300)).toEqual({ ...ch, expiresAt: NOW + 900 });
  });

  it("reuses the token last issued for the channel, per secret, until half its TTL is gone", async () => {
    const first = await sessionToken(SECRET, ch, 600, undefined, NOW);
    expect(await verifySession(SECRET, first, NOW)).toEqual({ ...ch, expiresAt: NOW + 600 });
    expect(await sessionToken(SECRET, ch, 600, undefined, NOW + 299)).toBe(first);
    expect(await sessionToken(SECRET, { sender, openBlock: 10 }, 600, undefined, NOW)).not.toBe(first);
    const foreign = await sessionToken(OTHER, ch, 600, undefined, NOW);
    expect(foreign).not.toBe(first);
    expect(await verifySession(SECRET, foreign, NOW)).toBeNull();
    const next = await sessionToken(SECRET, ch, 600, undefined, NOW + 300);
    expect(next).not.toBe(first);
    expect(await verifySession(SECRET, next, NOW + 300)).toEqual({ ...ch, expiresAt: NOW + 900 });
  });
});

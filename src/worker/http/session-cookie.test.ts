// The session cookie's attributes: its lifetime is the token's, Secure everywhere but localhost.
import { describe, expect, it } from "vitest";
import { sessionCookie } from "./session-cookie.js";

const token = (expiry: number) => `s1.${"ab".repeat(20)}.7.${expiry}.${"A".repeat(43)}`;

describe("sessionCookie", () => {
  it("lives as long as the token", () => {
    expect(sessionCookie(token(1_000_600), "https://a.example/x", 1_000_000)).toBe(
      `RDN-Session=${token(1_000_600)}; Max-Age=600; Path=/; HttpOnly; SameSite=Lax; Secure`,
    );
    expect(sessionCookie(token(999), "https://a.example/x", 1_000)).toContain("; Max-Age=0;");
  });

  it.each([
    ["http://localhost/x", false],
    ["http://app.localhost:8787/x", false],
    ["http://127.0.0.1:8787/x", false],
    ["http://127.9.9.9/x", false],
    ["http://[::1]:8787/x", false],
    ["https://localhost.example/x", true],
    ["https://127.0.0.1.example/x", true],
    ["https://example.com/x", true],
  ])("%s: Secure is %s", (url, secure) => {
    expect(sessionCookie(token(2_000), url, 1_000).endsWith("; Secure")).toBe(secure);
  });
});

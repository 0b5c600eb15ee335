// The free client's key: which header names it, and one canonical spelling per client.
import { describe, expect, it } from "vitest";
import { canonicalIp, clientKey, LOCAL_CLIENT } from "./client-key.js";

const h = (init: Record<string, string>) => new Headers(init);

describe("clientKey", () => {
  it("prefers CF-Connecting-IP, then the first X-Forwarded-For entry, then 'local'", () => {
    expect(clientKey(h({ "CF-Connecting-IP": "203.0.113.7", "X-Forwarded-For": "198.51.100.1" }), 64)).toBe(
      "203.0.113.7",
    );
    expect(clientKey(h({ "X-Forwarded-For": " 198.51.100.1 , 10.0.0.1" }), 64)).toBe("198.51.100.1");
    expect(clientKey(h({}), 64)).toBe(LOCAL_CLIENT);
    // An unparseable value is skipped, not used as a key.
    expect(clientKey(h({ "CF-Connecting-IP": "not-an-ip", "X-Forwarded-For": "198.51.100.2" }), 64)).toBe(
      "198.51.100.2",
    );
    expect(clientKey(h({ "X-Forwarded-For": "unknown" }), 64)).toBe(LOCAL_CLIENT);
  });

  it("keys an IPv6 client by its prefix, one spelling for equal addresses", () => {
    const a = clientKey(h({ "CF-Connecting-IP": "2001:db8:1:2:aaaa::1" }), 64);
    const b = clientKey(h({ "CF-Connecting-IP": "2001:0DB8:0001:0002:ffff:ffff:ffff:ffff" }), 64);
    expect(a).toBe("2001:db8:1:2:0:0:0:0/64");
    expect(b).toBe(a);
    expect(clientKey(h({ "CF-Connecting-IP": "2001:db8:1:3::1" }), 64)).not.toBe(a);
    expect(clientKey(h({ "CF-Connecting-IP": "2001:db8:1:2::1" }), 128)).toBe("2001:db8:1:2:0:0:0:1/128");
    expect(canonicalIp("2001:db8:abcd:ef12::", 36)).toBe("2001:db8:a000:0:0:0:0:0/36");
  });

  it("reads IPv4-mapped IPv6 as IPv4, and strips brackets and zones", () => {
    expect(canonicalIp("::ffff:203.0.113.9", 64)).toBe("203.0.113.9");
    expect(canonicalIp("::ffff:cb00:7109", 64)).toBe("203.0.113.9");
    expect(canonicalIp("[2001:db8::1]", 128)).toBe("2001:db8:0:0:0:0:0:1/128");
    expect(canonicalIp("fe80::1%eth0", 128)).toBe("fe80:0:0:0:0:0:0:1/128");
  });

  it("rejects what is not an address", () => {
    for (const bad of [
      "",
      "1.2.3",
      "1.2.3.256",
      "01.2.3.4",
      "1::2::3",
      "12345::",
      "1:2:3:4:5:6:7:8:9",
      "g::1",
      "::ffff:1.2.3.999",
    ]) {
      expect(canonicalIp(bad, 64), bad).toBeNull();
    }
  });
});

// originTarget: the forwarded URL is ORIGIN_URL's origin and base path followed by the path,
// for every spelling that URL parsers read as another host, and refused when it would leave them.
import { describe, expect, it } from "vitest";
import { originTarget } from "./proxy.js";

describe("originTarget", () => {
  it("concatenates origin, base path, path and query", () => {
    expect(originTarget("http://origin.test", "/a/b", "?q=1")!.href).toBe("http://origin.test/a/b?q=1");
    expect(originTarget("http://origin.test/base/", "/a", "")!.href).toBe("http://origin.test/base/a");
    expect(originTarget("https://origin.test:8443/base", "/", "")!.href).toBe("https://origin.test:8443/base/");
  });

  it("keeps every other-host spelling on the origin", () => {
    for (const path of ["//evil.test/x", "///evil.test/x", "//user@evil.test/x", "/@evil.test/x", "/%2F%2Fevil.test/x", "/%5Cevil.test/x", "/.//evil.test"]) {
      const t = originTarget("http://origin.test/base", path, "");
      expect(t?.host, path).toBe("origin.test");
      expect(t!.pathname.startsWith("/base/"), path).toBe(true);
    }
  });

  it("refuses paths that do not start with a slash, hold a backslash or a control character, or leave the base path", () => {
    const refused = [
      "@evil.test/x",
      "evil.test/x",
      "/\\evil.test/x",
      "\\\\evil.test/x",
      "/\t/evil.test/x",
      "/\n/evil.test/x",
      "/\r/evil.test/x",
      "/a b",
      "/../admin",
      "/%2e%2e/admin",
      "/.%2E/admin",
    ];
    for (const path of refused) expect(originTarget("http://origin.test/base", path, ""), JSON.stringify(path)).toBeNull();
    expect(originTarget("http://origin.test/base", "/x", "#frag")).toBeNull();
  });
});

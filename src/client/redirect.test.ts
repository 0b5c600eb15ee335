import { describe, expect, it } from "vitest";
import { nextHop } from "./redirect.js";
import { RequestTemplate } from "./request.js";

const redirect = (status: number, location: string) => new Response(null, { status, headers: { location } });

describe("nextHop", () => {
  it("never carries payment headers, and drops credentials when it changes origin", async () => {
    const req = await RequestTemplate.from("http://a.test/x", {
      headers: { "RDN-Session": "tok", "RDN-Balance": "5", "PAYMENT-SIGNATURE": "e30=", authorization: "Bearer k", cookie: "c=1", "x-keep": "1" },
    });
    const same = nextHop(req, redirect(302, "/y"))!;
    expect(same.url).toBe("http://a.test/y");
    const sameHeaders = same.build();
    expect([...sameHeaders.headers.keys()].sort()).toEqual(["authorization", "cookie", "x-keep"]);
    const other = nextHop(req, redirect(307, "http://b.test/z"))!.build();
    expect([...other.headers.keys()]).toEqual(["x-keep"]);
    expect(other.redirect).toBe("manual");
  });

  it("turns a 303 and a POST's 301/302 into a GET without the body, and keeps the body on 307/308", async () => {
    const post = await RequestTemplate.from("http://a.test/x", { method: "POST", body: "b=1", headers: { "content-type": "text/plain" } });
    for (const status of [301, 302, 303]) {
      const hop = nextHop(post, redirect(status, "/y"))!.build();
      expect([hop.method, hop.body, hop.headers.get("content-type")]).toEqual(["GET", null, null]);
    }
    const kept = nextHop(post, redirect(308, "/y"))!.build();
    expect([kept.method, await kept.text(), kept.headers.get("content-type")]).toEqual(["POST", "b=1", "text/plain"]);
  });

  it("has nothing to follow without a Location, and refuses targets that are not http(s)", async () => {
    const req = await RequestTemplate.from("http://a.test/x");
    expect(nextHop(req, new Response(null, { status: 302 }))).toBeNull();
    expect(() => nextHop(req, redirect(302, "file:///etc/passwd"))).toThrow(TypeError);
    expect(() => nextHop(req, redirect(302, "http://[bad"))).toThrow(TypeError);
  });
});

// The browser's session cookie (PROTOCOL.md section 6) through the real Worker in workerd: a
// served paid answer sets `RDN-Session` (HttpOnly, SameSite=Lax, Path=/, Secure except on
// localhost), and that cookie alone, with no payment header, then pays from the credit.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { encodeProofHeaders } from "../../src/protocol/codec.js";
import { freshAccount, openChannel, signProof } from "./helpers.js";

async function payAt(origin: string, balance: bigint) {
  const account = await freshAccount();
  const { openBlock } = await openChannel(account, 100n);
  const signature = await signProof(account, openBlock, balance);
  return SELF.fetch(`${origin}/echofix/cookie`, {
    headers: encodeProofHeaders({ sender: account.address, openBlock, balance, signature }),
  });
}

describe("the session cookie", () => {
  it("a paid answer sets it, and the cookie alone then spends the credit", async () => {
    const res = await payAt("https://paywall.example", 50n);
    expect(res.status).toBe(200);
    const session = res.headers.get("RDN-Session")!;
    const [cookie] = res.headers.getSetCookie();
    expect(cookie).toMatch(/^RDN-Session=[^;]+; Max-Age=(3600|359[0-9]); Path=\/; HttpOnly; SameSite=Lax; Secure$/);
    expect(cookie!.slice("RDN-Session=".length).split(";")[0]).toBe(session);

    const next = await SELF.fetch("https://paywall.example/echofix/again", {
      headers: { cookie: `RDN-Session=${session}` },
    });
    expect(next.status).toBe(200);
    expect(await next.text()).toBe("again");
    expect(next.headers.get("RDN-Cost")).toBe("5");
    expect(next.headers.get("RDN-Credit")).toBe("40");
  });

  it.each(["http://127.0.0.1:8787", "http://localhost:8787", "http://app.localhost"])(
    "is not Secure on %s (a local run is plain HTTP)",
    async (origin) => {
      const res = await payAt(origin, 5n);
      expect(res.status).toBe(200);
      const [cookie] = res.headers.getSetCookie();
      expect(cookie).toMatch(/^RDN-Session=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Lax$/);
    },
  );
});

import { describe, expect, it } from "vitest";
import { freshAccount, openChannel, pay, request } from "./helpers.js";

describe("smoke", () => {
  it("serves a free route and refuses an unpaid one", async () => {
    const free = await request("/free/x");
    expect(free.status).toBe(200);
    expect(await free.text()).toBe("x");
    const unpaid = await request("/echofix/x");
    expect(unpaid.status).toBe(402);
  });
  it("accepts a paid request", async () => {
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 1000n);
    const res = await pay(a, openBlock, 5n);
    expect(res.status, await res.clone().text()).toBe(200);
  });
});

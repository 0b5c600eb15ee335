import type { Address, Hex } from "viem";
import { describe, expect, it } from "vitest";
import { retryAfterMs } from "./fetch.js";
import { ChannelLedger } from "./ledger.js";
import { PriceBook, RequestTemplate } from "./request.js";
import type { Terms } from "./response.js";

const ledger = new ChannelLedger(
  {
    chainId: 31337,
    contract: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512" as Address,
    token: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address,
    sender: "0x90F79bf6EB2c4f870365E785982E1f101E93b906" as Address,
    receiver: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as Address,
    openBlock: 4,
  },
  500n,
);
const SIG = `0x${"11".repeat(65)}` as Hex;

describe("RequestTemplate", () => {
  it("replays the body, method and headers on every attempt, with that attempt's payment", async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode("payload"));
        c.close();
      },
    });
    const t = await RequestTemplate.from("http://127.0.0.1:1/x", {
      method: "POST",
      body: stream,
      headers: { "x-a": "1" },
    });
    const first = t.build({ kind: "proof", ledger, price: 5n, balance: 25n, amount: 5n, signature: SIG });
    expect(first.method).toBe("POST");
    expect(await first.text()).toBe("payload");
    expect(first.headers.get("x-a")).toBe("1");
    expect(first.headers.get("RDN-Sender-Address")).toBe(ledger.sender);
    expect(first.headers.get("RDN-Open-Block")).toBe("4");
    expect(first.headers.get("RDN-Balance")).toBe("25");
    expect(first.headers.get("RDN-Balance-Signature")).toBe(SIG);
    const second = t.build({ kind: "session", ledger, price: 5n, token: "tok" });
    expect(await second.text()).toBe("payload");
    expect(second.headers.get("RDN-Session")).toBe("tok");
    expect(second.headers.get("RDN-Balance")).toBeNull();
    expect(t.build().headers.get("RDN-Session")).toBeNull();
  });

  it("leaves requests that carry their own payment headers alone", async () => {
    expect(
      (await RequestTemplate.from("http://127.0.0.1:1/x", { headers: { "RDN-Session": "mine" } })).paysItself,
    ).toBe(true);
    expect((await RequestTemplate.from(new Request("http://127.0.0.1:1/x"))).paysItself).toBe(false);
  });
});

describe("PriceBook", () => {
  it("remembers the last terms per method and URL, dropping the oldest past its limit", () => {
    const book = new PriceBook(2);
    const t = (price: bigint) => ({ price }) as Terms;
    book.set("GET", "a", t(1n));
    book.set("GET", "b", t(2n));
    book.set("GET", "a", t(3n));
    book.set("GET", "c", t(4n));
    expect(book.get("GET", "a")?.price).toBe(3n);
    expect(book.get("GET", "b")).toBeUndefined();
    expect(book.get("POST", "a")).toBeUndefined();
    book.delete("GET", "a");
    expect(book.get("GET", "a")).toBeUndefined();
  });
});

describe("retryAfterMs", () => {
  it("reads delta seconds and HTTP dates", () => {
    expect(retryAfterMs("3")).toBe(3000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs("soon")).toBeUndefined();
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(retryAfterMs("Wed, 01 Jan 2025 00:00:05 GMT", now)).toBe(5000);
    expect(retryAfterMs("Wed, 01 Jan 2024 00:00:05 GMT", now)).toBe(0);
  });
});

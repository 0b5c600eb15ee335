import { describe, expect, it } from "vitest";
import { StreamWatch } from "./stream-watch.js";

/** A watch fed `text` cut into pieces of `size` characters. */
function watch(text: string, size = text.length): StreamWatch {
  const w = new StreamWatch();
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += size) w.push(bytes.subarray(i, i + size));
  return w;
}

const PAY =
  'event: rdn-payment-required\ndata: {"code":"insufficient_credit","cost":"30","credit":"0","needed":"20"}\n\n';

describe("StreamWatch", () => {
  it("reads the last event id, the events, the cost comment and the pay event, however the bytes are cut", () => {
    const text = `id: 1\ndata: a\n\n: ping\n\nid: 2\r\ndata: b\r\n\r\n${PAY}: rdn-cost 30\n: rdn-credit 0\n\n`;
    for (const size of [text.length, 1, 2, 7]) {
      const w = watch(text, size);
      expect(w.lastEventId).toBe("2");
      expect(w.events).toBe(2);
      expect(w.cost).toBe(30n);
      expect(w.credit).toBe(0n);
      expect(w.paymentRequired).toEqual({ code: "insufficient_credit", cost: 30n, credit: 0n, needed: 20n });
    }
  });

  it("takes nothing malformed from the server", () => {
    const w = watch(
      ': rdn-cost 1.5\n: rdn-credit -3\n: rdn-cost 4 5\n\nevent: rdn-payment-required\ndata: {"code":"x","cost":"0x1","credit":"0","needed":"1"}\n\nevent: rdn-payment-required\ndata: nope\n\n',
    );
    expect(w.cost).toBeUndefined();
    expect(w.credit).toBeUndefined();
    expect(w.paymentRequired).toBeUndefined();
    expect(w.events).toBe(0);
  });

  it("skips a line too long to be the paywall's, and keeps reading after it", () => {
    const w = watch(`data: ${"x".repeat(70_000)}\n\n: rdn-cost 7\n\n`, 4096);
    expect(w.cost).toBe(7n);
  });

  it("ignores a pay event or cost comment the handler's body wrote before later events", () => {
    const w = watch(`${PAY}: rdn-cost 999
: rdn-credit 999

id: 3
data: c

`);
    expect(w.paymentRequired).toBeUndefined();
    expect(w.cost).toBeUndefined();
    expect(w.credit).toBeUndefined();
    expect(w.events).toBe(1);
  });
});

// Metered streams in workerd (the demo's /stream/{n}: one event every 50 ms, 2 per event,
// reserved 20 at a time): bytes reach the client as the handler writes them, the channel is
// charged exactly the events passed (at the end, or at the client's disconnect), a stream longer
// than one reservation takes its next slices from credit, and one whose channel runs out ends
// between two events with the pay event, charged nothing above the deposit.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ChannelState } from "../../src/worker/channel/state.js";
import { channelStub } from "../../src/worker/channel/stub.js";
import { readBlocks } from "../helpers/sse.js";
import { freshAccount, openChannel, pay, request } from "./helpers.js";

const PER_EVENT = 2n;
const SLICE = 20n;

async function channel(deposit: bigint) {
  const a = await freshAccount();
  const { openBlock } = await openChannel(a, deposit);
  return { a, openBlock, raw: () => channelStub(env, a.address, openBlock).raw() };
}

/** Waits until the channel holds no reservation (the stream's settle landed). */
async function settled(raw: () => Promise<ChannelState | null>): Promise<ChannelState> {
  for (let i = 0; i < 200; i++) {
    const s = await raw();
    if (s && Object.keys(s.reservations).length === 0) return s;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("the stream's reservation was never settled");
}

describe("metered streams", () => {
  it("send the first event long before the last, and charge exactly events x price", async () => {
    const { a, openBlock, raw } = await channel(1000n);
    const started = Date.now();
    const res = await pay(a, openBlock, 100n, "/stream/8");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(res.headers.get("RDN-Price")).toBe("20");
    // The cost is not known when the headers go out; the credit holds the reservation.
    expect(res.headers.get("RDN-Cost")).toBeNull();
    expect(res.headers.get("RDN-Credit")).toBe("80");
    const { blocks, messages: data, rest } = await readBlocks(res);
    expect(rest).toBe("");
    expect(data.map((b) => b.text)).toEqual(
      Array.from({ length: 8 }, (_, k) => `id: ${k + 1}\ndata: {"i":${k + 1},"n":8}`),
    );
    const first = data[0]!.at - started;
    const total = data[7]!.at - started;
    expect(first).toBeLessThan(total / 3);
    // The final comment: the cost and the credit after it.
    expect(blocks.at(-1)!.text).toBe(": rdn-cost 16\n: rdn-credit 84");
    const s = await settled(raw);
    expect(s.charged).toBe(8n * PER_EVENT);
    const next = await request(`/api/1/channels/${a.address}/${openBlock}`);
    expect(await next.json()).toMatchObject({ balance: "100", credit: "84" });
  });

  it("charge a client that disconnects after k events for the events passed: k, or k + 1 with the one in flight", async () => {
    const { a, openBlock, raw } = await channel(1000n);
    const res = await pay(a, openBlock, 100n, "/stream/40");
    expect(res.status).toBe(200);
    const k = 3;
    const { messages: data } = await readBlocks(res, k);
    expect(data.length).toBe(k);
    const s = await settled(raw);
    const charged = s.charged / PER_EVENT;
    console.log("disconnect after", k, "charged events", charged);
    expect(s.charged % PER_EVENT).toBe(0n);
    expect(charged === BigInt(k) || charged === BigInt(k + 1)).toBe(true);
    // The rest of the reservation came back to credit.
    expect(s.balance - s.charged).toBe(100n - s.charged);
  });

  it("continue past one reservation by taking the next slices from credit", async () => {
    const { a, openBlock, raw } = await channel(1000n);
    const res = await pay(a, openBlock, 100n, "/stream/25");
    const { blocks, messages: data } = await readBlocks(res);
    expect(data.length).toBe(25);
    expect(blocks.some((b) => b.text.includes("rdn-payment-required"))).toBe(false);
    expect(blocks.at(-1)!.text).toBe(": rdn-cost 50\n: rdn-credit 50");
    const s = await settled(raw);
    expect(s.charged).toBe(25n * PER_EVENT);
  });

  it("end with the pay event when the credit runs out, charging no more than the deposit", async () => {
    // The whole deposit paid at once: 20 reserved, 10 more in credit, 15 events' worth.
    const { a, openBlock, raw } = await channel(30n);
    const res = await pay(a, openBlock, 30n, "/stream/25");
    expect(res.status).toBe(200);
    const { blocks, messages: data } = await readBlocks(res);
    expect(data.length).toBe(15);
    const tail = blocks.slice(-2).map((b) => b.text);
    expect(tail[0]).toBe(
      `event: rdn-payment-required\ndata: {"code":"insufficient_credit","cost":"30","credit":"0","needed":"${SLICE}"}`,
    );
    expect(tail[1]).toBe(": rdn-cost 30\n: rdn-credit 0");
    const s = await settled(raw);
    expect(s.charged).toBe(30n);
    expect(s.balance).toBe(30n);
    expect(s.deposit).toBe(30n);
  });
});

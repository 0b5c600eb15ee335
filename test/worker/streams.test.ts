// Metered streams in workerd (the demo's /stream/{n}: one event every 50 ms, 2 per event,
// reserved 20 at a time): bytes reach the client as the handler writes them, the channel is
// charged exactly the events passed (at the end, or at the client's disconnect), a stream longer
// than one reservation takes its next slices from credit, and one whose channel runs out ends
// between two events with the pay event, charged nothing above the deposit.
import { createExecutionContext, env } from "cloudflare:test";
import { streamSSE } from "hono/streaming";
import { describe, expect, it } from "vitest";
import { encodeProofHeaders } from "../../src/protocol/codec.js";
import { createApp } from "../../src/worker/app.js";
import type { ChannelState } from "../../src/worker/channel/state.js";
import { channelStub } from "../../src/worker/channel/stub.js";
import { readBlocks } from "../helpers/sse.js";
import { flushTraffic, trafficSeries } from "../../src/worker/traffic/index.js";
import { freshAccount, openChannel, pay, request, signProof } from "./helpers.js";

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

/** The paid requests and earnings the traffic counters hold (this isolate's counts written). */
async function traffic(): Promise<{ paid: number; earnings: number }> {
  await flushTraffic(env as never);
  const minutes = await trafficSeries(env as never);
  return minutes.reduce((t, m) => ({ paid: t.paid + m.paid, earnings: t.earnings + m.earnings }), {
    paid: 0,
    earnings: 0,
  });
}

describe("metered streams", () => {
  it("are announced by GET /api/1/pricing with their meter", async () => {
    const body = (await (await request("/api/1/pricing")).json()) as { routes: Array<Record<string, unknown>> };
    expect(body.routes.find((r) => r.path === "/stream/:n")).toMatchObject({
      mode: "metered",
      maxPrice: "20",
      meter: { perMs: 0, perKiB: 0, perEvent: 2, stream: true },
    });
  });

  it("send the first event long before the last, and charge exactly events x price", async () => {
    const { a, openBlock, raw } = await channel(1000n);
    // A first payment (5) makes the channel known, so the stream's request reads no chain.
    expect((await pay(a, openBlock, 5n)).status).toBe(200);
    const n = 20;
    const signature = await signProof(a, openBlock, 105n);
    const headers = encodeProofHeaders({ sender: a.address, openBlock, balance: 105n, signature });
    const started = Date.now();
    const res = await request(`/stream/${n}`, { headers });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(res.headers.get("RDN-Price")).toBe("20");
    // The cost is not known when the headers go out; the credit holds the first slice.
    expect(res.headers.get("RDN-Cost")).toBeNull();
    expect(res.headers.get("RDN-Credit")).toBe("80");
    const { blocks, messages, rest } = await readBlocks(res);
    expect(rest).toBe("");
    expect(messages.map((b) => b.text)).toEqual(
      Array.from({ length: n }, (_, k) => `id: ${k + 1}\ndata: {"i":${k + 1},"n":${n}}`),
    );
    // Streamed, not buffered: the first event came in the first third of the whole.
    expect(messages[0]!.at - started).toBeLessThan((messages[n - 1]!.at - started) / 3);
    // The final comment: the cost (20 events x 2, two slices) and the credit after it.
    expect(blocks.at(-1)!.text).toBe(": rdn-cost 40\n: rdn-credit 60");
    const s = await settled(raw);
    expect(s.charged).toBe(5n + BigInt(n) * PER_EVENT);
    const next = await request(`/api/1/channels/${a.address}/${openBlock}`);
    expect(await next.json()).toMatchObject({ balance: "105", credit: "60" });
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

/** A body that writes `chunk()` every `everyMs` until it is cancelled. */
function endless(everyMs: number, chunk: (i: number) => string): ReadableStream<Uint8Array> {
  const text = new TextEncoder();
  let i = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (i > 0) await new Promise((r) => (timer = setTimeout(r, everyMs)));
        controller.enqueue(text.encode(chunk(++i)));
      },
      cancel: () => clearTimeout(timer),
    },
    { highWaterMark: 0 },
  );
}

const sse = { "content-type": "text/event-stream" };
const app = createApp({
  routes: [
    {
      // The README's example: Hono's streamSSE, one token every 20 ms, resuming after Last-Event-ID.
      method: "GET",
      path: "/tokens",
      options: { metered: { maxPrice: 20n, perEvent: 1, perMs: 0, stream: true } },
      handler: (c) =>
        streamSSE(c, async (stream) => {
          const from = Number(c.req.header("Last-Event-ID") ?? "0");
          for (let i = from + 1; i <= 30 && !stream.aborted; i++) {
            await stream.writeSSE({ id: String(i), data: `token ${i}` });
            await stream.sleep(20);
          }
        }),
    },
    {
      // Time only: 10 per 100 ms, one event every 40 ms.
      method: "GET",
      path: "/timed",
      options: { metered: { maxPrice: 10n, perMs: 0.1, stream: true } },
      handler: () =>
        new Response(
          endless(40, (i) => `id: ${i}\ndata: ${i}\n\n`),
          { headers: sse },
        ),
    },
    {
      // Bytes only, not an event stream: 1 per KiB, a KiB every 10 ms.
      method: "GET",
      path: "/bytes",
      options: { metered: { maxPrice: 4n, perKiB: 1, perMs: 0, stream: true } },
      handler: () =>
        new Response(
          endless(10, () => "x".repeat(1024)),
          { headers: { "content-type": "application/octet-stream" } },
        ),
    },
    {
      // Not streamed: buffered, then charged per event before the headers go out.
      method: "GET",
      path: "/buffered",
      options: { metered: { maxPrice: 50n, perEvent: 3, perMs: 0 } },
      handler: () => new Response(": hello\n\ndata: 1\n\ndata: 2\ndata: 2b\n\nid: 3\ndata: 3\n\n", { headers: sse }),
    },
    {
      // Three events, then the handler's body fails.
      method: "GET",
      path: "/fails",
      options: { metered: { maxPrice: 10n, perEvent: 1, perMs: 0, stream: true } },
      handler: () => {
        let i = 0;
        const body = new ReadableStream<Uint8Array>({
          async pull(controller) {
            if (++i > 3) return controller.error(new Error("the handler failed"));
            controller.enqueue(new TextEncoder().encode(`data: ${i}\n\n`));
          },
        });
        return new Response(body, { headers: sse });
      },
    },
    {
      // Slow events on a short serving time: the reservation lives 100 ms + the margin unless renewed.
      method: "GET",
      path: "/slow",
      options: { metered: { maxPrice: 10n, perEvent: 1, perMs: 0, maxServingMs: 100, stream: true } },
      handler: () =>
        new Response(
          endless(200, (i) => `data: ${i}\n\n`),
          { headers: sse },
        ),
    },
  ],
});

/** Pays `path` of the test app with a proof for `balance`. */
async function payApp(a: Awaited<ReturnType<typeof freshAccount>>, openBlock: number, balance: bigint, path: string) {
  const signature = await signProof(a, openBlock, balance);
  const headers = encodeProofHeaders({ sender: a.address, openBlock, balance, signature });
  return app.fetch(new Request(`http://paywall.test${path}`, { headers }), env, createExecutionContext());
}

describe("metered streams of other handlers and meters", () => {
  it("a Hono streamSSE handler streams, is charged per event and resumes after Last-Event-ID", async () => {
    const { a, openBlock, raw } = await channel(1000n);
    const res = await payApp(a, openBlock, 100n, "/tokens");
    const all = await readBlocks(res);
    expect(all.messages.length).toBe(30);
    expect(all.blocks.at(-1)!.text).toBe(": rdn-cost 30\n: rdn-credit 70");
    const session = res.headers.get("RDN-Session")!;
    const again = await app.fetch(
      new Request("http://paywall.test/tokens", { headers: { "RDN-Session": session, "Last-Event-ID": "25" } }),
      env,
      createExecutionContext(),
    );
    const rest = await readBlocks(again);
    expect(rest.messages.map((m) => m.text)).toEqual([26, 27, 28, 29, 30].map((i) => `data: token ${i}\nid: ${i}`));
    expect((await settled(raw)).charged).toBe(35n);
  });

  it("a stream priced by time takes a slice each time its time uses one up, and ends with the pay event at the deposit", async () => {
    const { a, openBlock, raw } = await channel(30n);
    const res = await payApp(a, openBlock, 30n, "/timed");
    expect(res.status).toBe(200);
    const { blocks, messages } = await readBlocks(res);
    expect(messages.length).toBeGreaterThan(0);
    const pay = blocks.find((b) => b.text.startsWith("event: rdn-payment-required"))!;
    expect(JSON.parse(pay.text.split("data: ")[1]!)).toEqual({
      code: "insufficient_credit",
      cost: "30",
      credit: "0",
      needed: "10",
    });
    const s = await settled(raw);
    expect(s.charged).toBe(30n);
  });

  it("a byte stream that the channel cannot pay for is cut off with an error, charged the bytes passed", async () => {
    const { a, openBlock, raw } = await channel(10n);
    const res = await payApp(a, openBlock, 10n, "/bytes");
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let received = 0;
    const read = async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return "ended";
        received += value.length;
      }
    };
    await expect(read()).rejects.toThrow();
    expect(received).toBeLessThanOrEqual(10 * 1024);
    const s = await settled(raw);
    expect(s.charged).toBe(10n);
  });

  it("perEvent prices a buffered event-stream answer too, in its RDN-Cost", async () => {
    const { a, openBlock } = await channel(100n);
    const res = await payApp(a, openBlock, 100n, "/buffered");
    expect(res.headers.get("RDN-Cost")).toBe("9");
    expect(res.headers.get("RDN-Credit")).toBe("91");
    expect(await res.text()).not.toContain("rdn-cost");
  });

  it("a handler whose body fails mid-way is charged the events that passed", async () => {
    const { a, openBlock, raw } = await channel(100n);
    const res = await payApp(a, openBlock, 100n, "/fails");
    await expect(res.text()).rejects.toThrow();
    expect((await settled(raw)).charged).toBe(3n);
  });

  it("renews its reservation while it flows, so a long stream does not expire", async () => {
    const { a, openBlock, raw } = await channel(100n);
    const res = await payApp(a, openBlock, 100n, "/slow");
    const reader = res.body!.getReader();
    await reader.read();
    const first = Object.values((await raw())!.reservations)[0]!.expiresAt;
    let later = first;
    for (let i = 0; i < 100 && later === first; i++) {
      await reader.read();
      later = Object.values((await raw())!.reservations)[0]!.expiresAt;
    }
    expect(later).toBeGreaterThan(first);
    await reader.cancel();
    await settled(raw);
  });

  it("count a streamed request in the traffic once, at what it was charged in all", async () => {
    const { a, openBlock, raw } = await channel(1000n);
    expect((await pay(a, openBlock, 5n)).status).toBe(200);
    const before = await traffic();
    const signature = await signProof(a, openBlock, 105n);
    const res = await request("/stream/20", {
      headers: encodeProofHeaders({ sender: a.address, openBlock, balance: 105n, signature }),
    });
    await readBlocks(res);
    await settled(raw);
    // Counted when its settle lands (after the reservation is gone): poll until it shows.
    let after = await traffic();
    for (let i = 0; i < 100 && after.paid === before.paid; i++) {
      await new Promise((r) => setTimeout(r, 20));
      after = await traffic();
    }
    // 20 events x 2 (two slices of 20), not the first slice alone.
    expect({ paid: after.paid - before.paid, earnings: after.earnings - before.earnings }).toEqual({
      paid: 1,
      earnings: 40,
    });
  });
});

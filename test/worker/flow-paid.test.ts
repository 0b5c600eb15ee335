// Flow control for payers and metered pricing, in workerd: the paid bucket lives in the
// channel's object (PAID_CAPACITY is 20 here, a buffer of 120), a 429 on a paid request charges
// nothing and leaves the proof usable, concurrent requests never overspend the bucket or the
// credit, and a metered route charges its measured cost within its maximum; a reservation
// never settled expires at its maximum.
import { abortAllDurableObjects, env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { channelStub } from "../../src/worker/channel/stub.js";
import { encodeProofHeaders } from "../../src/protocol/codec.js";
import { RESERVATION_MARGIN_MS } from "../../src/worker/channel/state.js";
import { freshAccount, openChannel, pay, request, signCloseRequest, signProof } from "./helpers.js";

const PAID_BUFFER = 120;
const PAID_CAPACITY = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const session = (token: string, path = "/echofix/s") => request(path, { headers: { "RDN-Session": token } });

async function channelWithCredit(deposit: bigint, balance: bigint) {
  const a = await freshAccount();
  const { openBlock } = await openChannel(a, deposit);
  const first = await pay(a, openBlock, balance);
  expect(first.status).toBe(200);
  return { a, openBlock, token: first.headers.get("RDN-Session")!, first };
}

describe("the paid allowance", () => {
  it("a paid response carries the paid RateLimit fields", async () => {
    const { first } = await channelWithCredit(100n, 5n);
    expect(first.headers.get("RateLimit-Policy")).toBe(`"paid";q=${PAID_BUFFER};w=6`);
    expect(first.headers.get("RateLimit")).toBe(`"paid";r=${PAID_BUFFER - 1};t=1`);
  });

  it("concurrent session requests never overspend the bucket or the credit; a 429 charges nothing", async () => {
    const { a, openBlock, token } = await channelWithCredit(2000n, 1000n);
    const before = (await channelStub(env, a.address, openBlock).raw())!;
    const started = Date.now();
    const responses = await Promise.all(Array.from({ length: 160 }, () => session(token)));
    const elapsedMs = Date.now() - started;
    const served = responses.filter((r) => r.status === 200);
    const limited = responses.filter((r) => r.status === 429);
    expect(served.length + limited.length).toBe(160);
    // The payer gets far more than the free buffer (30), and never more than its own allows.
    expect(served.length).toBeGreaterThan(30);
    expect(served.length).toBeLessThanOrEqual(PAID_BUFFER - 1 + Math.ceil((PAID_CAPACITY * elapsedMs) / 1000));
    expect(limited.length).toBeGreaterThan(0);
    for (const r of limited) {
      expect(r.headers.get("Retry-After")).toMatch(/^[1-9][0-9]*$/);
      expect(r.headers.get("RateLimit-Policy")).toBe(`"paid";q=${PAID_BUFFER};w=6`);
      expect(r.headers.get("RDN-Sender-Address")!.toLowerCase()).toBe(a.address.toLowerCase());
      expect(r.headers.get("RDN-Cost")).toBeNull();
    }
    // Credit fell by exactly the served requests' price: refusals were not charged.
    const after = (await channelStub(env, a.address, openBlock).raw())!;
    expect(after.charged - before.charged).toBe(5n * BigInt(served.length));
    expect(after.payments - before.payments).toBe(served.length);
  });

  it("a 429 on a fresh proof changes no payment state, and the same proof is accepted after Retry-After", async () => {
    const { a, openBlock, token } = await channelWithCredit(5000n, 1000n);
    const proof = encodeProofHeaders({ sender: a.address, openBlock, balance: 1100n, signature: await signProof(a, openBlock, 1100n) });
    // Empty the paid bucket: a flood past the buffer, which keeps coming early and is frozen.
    const rs = await Promise.all(Array.from({ length: PAID_BUFFER + 20 }, () => session(token)));
    const limited = rs.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    const wait = Math.max(...limited.map((r) => Number(r.headers.get("Retry-After"))));
    const stub = channelStub(env, a.address, openBlock);
    const before = (await stub.raw())!;
    const refused = await request("/echofix/p", { headers: proof });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("RDN-Sender-Balance")).toBe(before.balance.toString());
    const during = (await stub.raw())!;
    expect(during.balance).toBe(before.balance);
    expect(during.charged).toBe(before.charged);
    expect(during.balanceSig).toBe(before.balanceSig);
    expect(during.pending).toEqual(before.pending);
    await sleep(Math.max(wait, Number(refused.headers.get("Retry-After"))) * 1000);
    const accepted = await request("/echofix/p", { headers: proof });
    expect(accepted.status).toBe(200);
    expect(accepted.headers.get("RDN-Sender-Balance")).toBe("1100");
  });
});

describe("paying clients are priority clients on free routes", () => {
  const from = (ip: string, path: string, headers: Record<string, string> = {}) => request(path, { headers: { "CF-Connecting-IP": ip, ...headers } });

  it("a session on a free route is charged to its channel's bucket at the paid capacity, and nothing else", async () => {
    const { a, openBlock, token } = await channelWithCredit(1000n, 100n);
    const before = (await channelStub(env, a.address, openBlock).raw())!;
    const ip = "198.18.0.1";
    const responses = await Promise.all(Array.from({ length: 60 }, () => from(ip, "/free/x", { "RDN-Session": token })));
    // Twice the free buffer (30), all within the paid one (120).
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 200));
    for (const r of responses) {
      expect(r.headers.get("RateLimit-Policy")).toBe(`"paid";q=${PAID_BUFFER};w=6`);
      expect(r.headers.get("RateLimit")).toMatch(/^"paid";r=\d+;t=\d+$/);
      expect(r.headers.get("RDN-Cost")).toBe("0");
      expect(r.headers.get("RDN-Session")).toBe(token);
      expect(r.headers.get("RDN-Credit")).toBe("95");
    }
    const after = (await channelStub(env, a.address, openBlock).raw())!;
    expect(after.flow!.served - (before.flow?.served ?? 0)).toBe(60);
    expect({ ...after, flow: undefined }).toEqual({ ...before, flow: undefined });
    // The free share of the same address was never touched.
    expect((await from(ip, "/free/y")).headers.get("RateLimit")).toBe('"free";r=29;t=1');
  });

  it("over the paid allowance a free route answers 429 with the paid fields", async () => {
    const { token } = await channelWithCredit(1000n, 100n);
    const rs = await Promise.all(Array.from({ length: PAID_BUFFER + 40 }, () => from("198.18.0.2", "/free/x", { "RDN-Session": token })));
    const limited = rs.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]!.headers.get("RateLimit-Policy")).toBe(`"paid";q=${PAID_BUFFER};w=6`);
    expect(limited[0]!.headers.get("Retry-After")).toMatch(/^[1-9][0-9]*$/);
  });

  it("an invalid session, a stale proof or a channel never met is served from the free share, not refused", async () => {
    const { a, openBlock, token } = await channelWithCredit(1000n, 100n);
    const tampered = token.slice(0, -2) + (token.endsWith("AA") ? "BB" : "AA");
    const stale = encodeProofHeaders({ sender: a.address, openBlock, balance: 100n, signature: await signProof(a, openBlock, 100n) });
    const stranger = await freshAccount();
    const unknown = encodeProofHeaders({ sender: stranger.address, openBlock: 7, balance: 5n, signature: await signProof(stranger, 7, 5n) });
    for (const [ip, headers] of [
      ["198.18.0.3", { "RDN-Session": tampered }],
      ["198.18.0.4", stale],
      ["198.18.0.5", unknown],
      ["198.18.0.6", { "RDN-Balance": "not-a-number", "RDN-Sender-Address": a.address }],
    ] as const) {
      const res = await from(ip, "/free/x", headers);
      expect(res.status).toBe(200);
      expect(res.headers.get("RateLimit")).toBe('"free";r=29;t=1');
      expect(res.headers.get("RDN-Session")).toBeNull();
    }
    expect(await channelStub(env, stranger.address, 7).raw()).toBeNull();
  });

  it("a fresh proof on a free route is accepted at price 0: its surplus becomes credit", async () => {
    const { a, openBlock } = await channelWithCredit(1000n, 100n);
    const res = await pay(a, openBlock, 130n, "/free/p", { "CF-Connecting-IP": "198.18.0.7" });
    expect(res.status).toBe(200);
    expect(res.headers.get("RDN-Cost")).toBe("0");
    expect(res.headers.get("RDN-Sender-Balance")).toBe("130");
    expect(res.headers.get("RDN-Credit")).toBe("125");
    expect(res.headers.get("RateLimit-Policy")).toBe(`"paid";q=${PAID_BUFFER};w=6`);
    expect(res.headers.get("Cache-Control")).toBe("private, no-store");
  });

  it("a session on a trial route during the trial is served free from the paid bucket", async () => {
    const { token } = await channelWithCredit(1000n, 100n);
    const res = await from("198.18.0.8", "/trial/t", { "RDN-Session": token });
    expect(res.status).toBe(200);
    expect(res.headers.get("RDN-Cost")).toBe("0");
    expect(res.headers.get("RDN-Credit")).toBe("95");
    expect(res.headers.get("RDN-Trial-Remaining")).toBe("180");
    expect(res.headers.get("RateLimit-Policy")).toBe(`"paid";q=${PAID_BUFFER};w=6`);
  });
});

describe("metered routes", () => {
  it("charge the measured cost, more for longer work, never above the maximum; credit falls by exactly the cost", async () => {
    let { token } = await channelWithCredit(1000n, 600n);
    let credit = 595n;
    const costs: bigint[] = [];
    for (const ms of [50, 200, 400]) {
      const res = await session(token, `/metered/${ms}`);
      expect(res.status, await res.clone().text()).toBe(200);
      expect(await res.json()).toEqual({ busyMs: ms });
      expect(res.headers.get("RDN-Price")).toBe("100");
      const cost = BigInt(res.headers.get("RDN-Cost")!);
      // perMs is 0.4: at least 0.4 x ms (the handler slept that long), at most the maximum.
      expect(cost).toBeGreaterThanOrEqual(BigInt(Math.min(100, Math.ceil(ms * 0.4))));
      expect(cost).toBeLessThanOrEqual(100n);
      const after = BigInt(res.headers.get("RDN-Credit")!);
      expect(credit - after).toBe(cost);
      credit = after;
      costs.push(cost);
      token = res.headers.get("RDN-Session")!;
    }
    expect(costs[1]!).toBeGreaterThan(costs[0]!);
    expect(costs[2]).toBe(100n);
  });

  it("refuses a metered request without enough credit for the maximum with 402 and RDN-Price as the maximum", async () => {
    const { token, a, openBlock } = await channelWithCredit(1000n, 60n);
    const res = await session(token, "/metered/10");
    expect(res.status).toBe(402);
    expect(res.headers.get("RDN-Price")).toBe("100");
    expect(res.headers.get("RDN-Insufficient-Credit")).toBe("1");
    expect(res.headers.get("RDN-Credit")).toBe("55");
    const raw = (await channelStub(env, a.address, openBlock).raw())!;
    expect(raw.reservations).toEqual({});
  });

  it("expires a reservation never settled (the Worker died mid-request) at its maximum, and then lets the sender close", async () => {
    const { a, openBlock } = await channelWithCredit(1000n, 200n); // B = 200, C = 5
    const stub = channelStub(env, a.address, openBlock);
    // What a Worker that died after reserving leaves behind: a reservation nobody settles.
    const reserved = await stub.spend({ sender: a.address, openBlock, price: 100n, reserveId: "lost", reserveMs: 250 });
    expect(reserved.ok).toBe(true);
    const close = async () => {
      const deadline = BigInt(Math.floor(Date.now() / 1000) + 300);
      const headers = { "RDN-Close-Signature": await signCloseRequest(a, openBlock, deadline), "RDN-Close-Deadline": String(deadline) };
      return request(`/api/1/channels/${a.address}/${openBlock}`, { method: "DELETE", headers });
    };
    const blocked = await close();
    expect(blocked.status).toBe(400);
    const expiresAt = (await stub.raw())!.reservations.lost!.expiresAt;
    expect(expiresAt).toBeGreaterThan(Date.now());
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 250 + RESERVATION_MARGIN_MS);
    // Let its time run out (moved back in storage, then the object restarts from storage).
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE channel SET data = json_set(data, '$.reservations.lost.expiresAt', 1)");
    });
    await abortAllDurableObjects();
    expect(await runDurableObjectAlarm(channelStub(env, a.address, openBlock))).toBe(true);
    const after = (await channelStub(env, a.address, openBlock).raw())!;
    expect(after.reservations).toEqual({});
    expect(after.charged).toBe(105n);
    // A settle arriving after the expiry changes nothing; the close is now answered at C.
    await channelStub(env, a.address, openBlock).settle("lost", 3n);
    const closed = await close();
    expect(closed.status).toBe(200);
    expect(((await closed.json()) as { balance: string }).balance).toBe("105");
  });

  it("charges a refused input (4xx) its serving time only and frees the rest of the reservation", async () => {
    const { token } = await channelWithCredit(1000n, 200n);
    const bad = await session(token, "/metered/nope");
    expect(bad.status).toBe(400);
    // A 4xx answer is served work: charged by time, near zero here, never the maximum.
    expect(BigInt(bad.headers.get("RDN-Cost")!)).toBeLessThan(100n);
    expect(BigInt(bad.headers.get("RDN-Credit")!)).toBe(195n - BigInt(bad.headers.get("RDN-Cost")!));
  });
});

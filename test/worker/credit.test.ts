// Credit and sessions, concurrency on one channel, and durability across object eviction.
import { abortAllDurableObjects, env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import { channelId } from "../../src/protocol/channel-key.js";
import { channelStub } from "../../src/worker/channel/stub.js";
import { channels } from "../../src/worker/db/schema.js";
import { issueSession } from "../../src/worker/session.js";
import { flushProjection, freshAccount, openChannel, pay, request } from "./helpers.js";

const session = (token: string, path = "/echofix/s") => request(path, { headers: { "RDN-Session": token } });

describe("credit and sessions", () => {
  it("turns an overpayment into credit and spends it by session until it is short", async () => {
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 100n);
    const first = await pay(a, openBlock, 17n);
    expect(first.status).toBe(200);
    expect(first.headers.get("RDN-Credit")).toBe("12");
    let token = first.headers.get("RDN-Session")!;
    const credits: string[] = [];
    for (;;) {
      const res = await session(token);
      if (res.status !== 200) {
        expect(res.status).toBe(402);
        expect(res.headers.get("RDN-Insufficient-Credit")).toBe("1");
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("insufficient_credit");
        expect(res.headers.get("RDN-Credit")).toBe("2");
        break;
      }
      expect(res.headers.get("RDN-Cost")).toBe("5");
      credits.push(res.headers.get("RDN-Credit")!);
      token = res.headers.get("RDN-Session")!;
    }
    expect(credits).toEqual(["7", "2"]);
    // A fresh proof counts the remaining credit: N - C >= p with N = B + 3.
    const topped = await pay(a, openBlock, 20n);
    expect(topped.status).toBe(200);
    expect(topped.headers.get("RDN-Credit")).toBe("0");
  });

  it("refuses a forged, expired or foreign-secret session without touching the channel", async () => {
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 100n);
    const res = await pay(a, openBlock, 50n);
    const token = res.headers.get("RDN-Session")!;
    const tampered = token.slice(0, -2) + (token.endsWith("AA") ? "BB" : "AA");
    const expired = await issueSession(env.SESSION_SECRET as string, { sender: a.address, openBlock }, 10, 1_000);
    const foreign = await issueSession("another-secret-0123456789", { sender: a.address, openBlock }, 600);
    for (const t of [tampered, expired, foreign]) {
      const r = await session(t);
      expect(r.status).toBe(402);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe("invalid_session");
    }
    const info = await channelStub(env, a.address, openBlock).info(a.address, openBlock);
    expect(info.channel?.credit).toBe(45n);
  });

  it("charges a session to the channel it names, whatever other channel the request names, and hands the same token back", async () => {
    const a = await freshAccount();
    const b = await freshAccount();
    const chA = await openChannel(a, 100n);
    const chB = await openChannel(b, 100n);
    const token = (await pay(a, chA.openBlock, 50n)).headers.get("RDN-Session")!;
    expect((await pay(b, chB.openBlock, 50n)).status).toBe(200);
    const res = await request("/echofix/s", {
      headers: { "RDN-Session": token, "RDN-Sender-Address": b.address, "RDN-Open-Block": String(chB.openBlock) },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("RDN-Sender-Address")!.toLowerCase()).toBe(a.address.toLowerCase());
    expect(res.headers.get("RDN-Credit")).toBe("40");
    expect(res.headers.get("RDN-Session")).toBe(token);
    expect((await channelStub(env, a.address, chA.openBlock).raw())?.charged).toBe(10n);
    expect((await channelStub(env, b.address, chB.openBlock).raw())?.charged).toBe(5n);
  });

  it("accepts one copy of a fresh proof sent 16 times at once", async () => {
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 100n);
    const results = await Promise.all(Array.from({ length: 16 }, () => pay(a, openBlock, 5n)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 402)).toHaveLength(15);
    for (const r of results) if (r.status === 402) expect(r.headers.get("RDN-Invalid-Amount")).toBe("1");
    const info = await channelStub(env, a.address, openBlock).info(a.address, openBlock);
    expect([info.channel?.balance, info.channel?.charged]).toEqual([5n, 5n]);
  });

  it("charges concurrent session requests exactly, never overspending the credit", async () => {
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 100n);
    const token = (await pay(a, openBlock, 55n)).headers.get("RDN-Session")!; // credit 50
    const results = await Promise.all(Array.from({ length: 14 }, () => session(token)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(10);
    const info = await channelStub(env, a.address, openBlock).info(a.address, openBlock);
    expect(info.channel?.credit).toBe(0n);
  });

  it("keeps accepted payments across eviction of the object", async () => {
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 100n);
    expect((await pay(a, openBlock, 10n)).status).toBe(200);
    await abortAllDurableObjects();
    const replay = await pay(a, openBlock, 10n);
    expect(replay.status).toBe(402);
    expect(replay.headers.get("RDN-Sender-Balance")).toBe("10");
    expect((await pay(a, openBlock, 15n)).status).toBe(200);
  });

  it("projects the channel to D1 behind an alarm, through the projection queue", async () => {
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 100n);
    await pay(a, openBlock, 25n);
    await flushProjection(a.address, openBlock);
    const [row] = await drizzle(env.DB)
      .select()
      .from(channels)
      .where(eq(channels.id, channelId(a.address, openBlock)));
    expect(row).toMatchObject({
      state: "open",
      deposit: "100",
      balance: "25",
      charged: "5",
      withdrawable: "0",
      payments: 1,
    });
  });
});

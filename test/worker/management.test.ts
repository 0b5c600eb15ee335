// The management API (stats, pricing, channel info, the sender's close request) and the
// admin API's authentication and views.
import { describe, expect, it } from "vitest";
import { recoverTypedDataAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { closingProofTypedData } from "../../src/protocol/eip712.js";
import {
  adminToken,
  chain,
  flushProjection,
  freshAccount,
  keys,
  openChannel,
  pay,
  receiver,
  request,
  signCloseRequest,
  signProof,
} from "./helpers.js";

const soon = () => BigInt(Math.floor(Date.now() / 1000) + 300);

describe("management API", () => {
  it("GET /api/1/stats describes the paywall", async () => {
    const res = await request("/api/1/stats");
    expect(res.status).toBe(200);
    const stats = (await res.json()) as Record<string, unknown>;
    expect(stats).toMatchObject({ chainId: chain.chainId, challengePeriod: 500, minConfirmations: 1 });
    expect((stats.receiver as string).toLowerCase()).toBe(receiver.address.toLowerCase());
    expect(stats).toHaveProperty("syncedBlock");
    expect(typeof stats.openChannels).toBe("number");
  });

  it("GET /api/1/pricing lists the priced routes with their modes", async () => {
    const body = (await (await request("/api/1/pricing")).json()) as {
      routes: { path: string; mode: string; price?: string; maxPrice?: string }[];
    };
    const byPath = Object.fromEntries(body.routes.map((r) => [r.path, r]));
    expect(byPath["/echofix/:param"]).toMatchObject({ mode: "fixed", price: "5" });
    expect(byPath["/echodyn/:n"]).toMatchObject({ mode: "dynamic" });
    expect(byPath["/metered/:ms"]).toMatchObject({ mode: "metered", maxPrice: "100" });
  });

  it("GET /api/1/channels/{sender}/{openBlock} shows a channel; bad parameters get 400, unknown 404", async () => {
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 100n);
    await pay(a, openBlock, 12n);
    const res = await request(`/api/1/channels/${a.address}/${openBlock}`);
    expect(await res.json()).toMatchObject({
      state: "open",
      deposit: "100",
      balance: "12",
      credit: "7",
      withdrawn: "0",
    });
    expect((await request(`/api/1/channels/0x12/${openBlock}`)).status).toBe(400);
    expect((await request(`/api/1/channels/${a.address}/${openBlock + 999_999}`)).status).toBe(404);
  });
});

describe("close request", () => {
  it("needs the sender's CloseRequest signature (401 otherwise) and changes nothing when refused", async () => {
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 100n);
    await pay(a, openBlock, 5n);
    const path = `/api/1/channels/${a.address}/${openBlock}`;
    const expectUnauthorized = async (headers: Record<string, string>) => {
      const res = await request(path, { method: "DELETE", headers });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_close_request");
    };
    await expectUnauthorized({});
    const deadline = soon();
    const mallory = privateKeyToAccount(keys[9]!);
    await expectUnauthorized({
      "RDN-Close-Signature": await signCloseRequest(mallory, openBlock, deadline),
      "RDN-Close-Deadline": String(deadline),
    });
    const past = BigInt(Math.floor(Date.now() / 1000) - 5);
    await expectUnauthorized({
      "RDN-Close-Signature": await signCloseRequest(a, openBlock, past),
      "RDN-Close-Deadline": String(past),
    });
    // Signed for one deadline, sent with another.
    await expectUnauthorized({
      "RDN-Close-Signature": await signCloseRequest(a, openBlock, deadline),
      "RDN-Close-Deadline": String(deadline + 1n),
    });
    expect((await pay(a, openBlock, 10n)).status).toBe(200);
  });

  it("answers a ClosingProof at C, stops serving, and answers the same again", async () => {
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 100n);
    const paid = await pay(a, openBlock, 30n); // B = 30, C = 5
    const token = paid.headers.get("RDN-Session")!;
    expect((await request("/echofix/s", { headers: { "RDN-Session": token } })).status).toBe(200); // C = 10
    const deadline = soon();
    const headers = {
      "RDN-Close-Signature": await signCloseRequest(a, openBlock, deadline),
      "RDN-Close-Deadline": String(deadline),
    };
    const res = await request(`/api/1/channels/${a.address}/${openBlock}`, { method: "DELETE", headers });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { balance: string; closingSignature: `0x${string}` };
    expect(body.balance).toBe("10");
    // B and the sender's own signature of it, for a client that lost its state (B >= C).
    expect(res.headers.get("RDN-Sender-Balance")).toBe("30");
    expect(res.headers.get("RDN-Balance-Signature")).toBe(await signProof(a, openBlock, 30n));
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const signer = await recoverTypedDataAddress({
      ...closingProofTypedData({
        chainId: chain.chainId,
        contract: chain.contract,
        sender: a.address,
        openBlock,
        balance: 10n,
      }),
      signature: body.closingSignature,
    });
    expect(signer).toBe(receiver.address);

    const refused = await pay(a, openBlock, 40n);
    expect(refused.status).toBe(402);
    expect(refused.headers.get("RDN-Channel-Closing")).toBe("1");
    const bySession = await request("/echofix/s", { headers: { "RDN-Session": token } });
    expect(bySession.headers.get("RDN-Channel-Closing")).toBe("1");

    const again = await request(`/api/1/channels/${a.address}/${openBlock}`, { method: "DELETE", headers });
    expect(await again.json()).toMatchObject({ balance: "10", closingSignature: body.closingSignature });
    const info = await request(`/api/1/channels/${a.address}/${openBlock}`);
    expect(await info.json()).toMatchObject({ state: "closing", balance: "30", credit: "20" });
  });
});

describe("admin API", () => {
  it("refuses a missing or wrong token with 401 and a JSON body", async () => {
    for (const authorization of [undefined, "Bearer nope", `Basic ${adminToken}`, `Bearer ${adminToken}x`]) {
      const res = await request("/api/1/admin/channels", { headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    }
  });

  it("lists channels with filters and paging, shows one, and sums earnings", async () => {
    const a = await freshAccount();
    const opened = [await openChannel(a, 100n), await openChannel(a, 100n), await openChannel(a, 100n)];
    for (const ch of opened) {
      await pay(a, ch.openBlock, 5n);
      await flushProjection(a.address, ch.openBlock);
    }
    const auth = { authorization: `Bearer ${adminToken}` };
    const page1 = (await (
      await request(`/api/1/admin/channels?sender=${a.address}&limit=2`, { headers: auth })
    ).json()) as {
      channels: { openBlock: number }[];
      nextCursor: string | null;
    };
    expect(page1.channels).toHaveLength(2);
    expect(page1.nextCursor).toBeTruthy();
    const page2 = (await (
      await request(`/api/1/admin/channels?sender=${a.address}&limit=2&cursor=${page1.nextCursor}`, { headers: auth })
    ).json()) as {
      channels: { openBlock: number }[];
      nextCursor: string | null;
    };
    expect(page2.channels).toHaveLength(1);
    expect(page2.nextCursor).toBeNull();
    expect(new Set([...page1.channels, ...page2.channels].map((c) => c.openBlock))).toEqual(
      new Set(opened.map((o) => o.openBlock)),
    );
    expect((await request("/api/1/admin/channels?limit=0", { headers: auth })).status).toBe(400);

    const one = await request(`/api/1/admin/channels/${a.address}/${opened[0]!.openBlock}`, { headers: auth });
    expect(await one.json()).toMatchObject({ channel: { balance: "5" }, withdrawable: "5", payments: 1 });
    const earnings = (await (await request("/api/1/admin/earnings", { headers: auth })).json()) as Record<
      string,
      string
    >;
    expect(BigInt(earnings.earned!)).toBeGreaterThanOrEqual(15n);
  });
});

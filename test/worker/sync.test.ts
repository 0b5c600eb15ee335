// The chain sync against the shared anvil, inside workerd: every event kind reaches the
// channel's object, a second run (or a concurrent one) changes nothing, a dead node is recorded
// and the paid path keeps serving while the sync later resumes from its cursor, the scheduled
// handler runs the sync, and the admin sync view. The chain is shared with the other test files,
// so everything is filtered by this file's fresh senders; nothing relies on global counts.
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import type { Address } from "viem";
import { describe, expect, it } from "vitest";
import { RdnFlags } from "../../src/protocol/headers.js";
import { channelStub } from "../../src/worker/channel/stub.js";
import worker from "../../src/worker/index.js";
import { readSyncRow } from "../../src/worker/sync/cursor.js";
import { runSync } from "../../src/worker/sync/run.js";
import { adminRequest, flushProjection, freshAccount, mainChain, openChannel, pay, request, topUp } from "./helpers.js";

async function eventNames(sender: Address): Promise<string[]> {
  const { results } = await env.DB.prepare(
    "SELECT name FROM chain_events WHERE sender = ? ORDER BY block_number, log_index",
  )
    .bind(sender.toLowerCase())
    .all<{ name: string }>();
  return results.map((r) => r.name);
}

async function synced() {
  const report = await runSync(env);
  expect(report.error).toBeNull();
  expect(report.ran).toBe(true);
  return report;
}

describe("chain sync", () => {
  it("applies each event kind to its channel's object: created, topped up, withdraw, close requested, settled", async () => {
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 100n);
    const stub = channelStub(env, a.address, openBlock);
    expect(await stub.raw()).toBeNull();

    await synced();
    expect(await stub.raw()).toMatchObject({ status: "open", deposit: 100n, withdrawn: 0n });
    expect(await eventNames(a.address)).toEqual(["ChannelCreated"]);

    await topUp(a, openBlock, 50n);
    await synced();
    expect((await stub.raw())!.deposit).toBe(150n);

    // B 20, C 10: the proof for 10 is withdrawable, 10 stays credit.
    expect((await pay(a, openBlock, 10n)).status).toBe(200);
    expect((await pay(a, openBlock, 20n)).status).toBe(200);
    await flushProjection(a.address, openBlock);
    const withdraw = (await (
      await adminRequest("/withdraw", { method: "POST", body: JSON.stringify({ minimum: "1" }) })
    ).json()) as {
      sent: { sender: string; balance: string; tx: { status: string } }[];
    };
    const mine = withdraw.sent.find((s) => s.sender.toLowerCase() === a.address.toLowerCase());
    expect(mine).toMatchObject({ balance: "10", tx: { status: "confirmed" } });
    await synced();
    expect((await stub.raw())!.withdrawn).toBe(10n);

    // An honest uncooperative close at C is not disputed.
    const { settleBlock } = await mainChain.uncooperativeClose(a, openBlock, 10n);
    const afterClose = await synced();
    expect(
      afterClose.settlement!.disputes.filter((d) => d.intent.sender.toLowerCase() === a.address.toLowerCase()),
    ).toEqual([]);
    expect(await stub.raw()).toMatchObject({ status: "closing", closingBalance: 10n, settleBlock });
    const refused = await pay(a, openBlock, 30n);
    expect(refused.status).toBe(402);
    expect(refused.headers.get(RdnFlags.channelClosing)).toBe("1");

    await mainChain.mine(settleBlock - (await mainChain.head()) + 1);
    await flushProjection(a.address, openBlock);
    const settle = (await (await adminRequest("/settle", { method: "POST" })).json()) as {
      sent: { sender: string; tx: { status: string } }[];
    };
    expect(settle.sent.find((s) => s.sender.toLowerCase() === a.address.toLowerCase())).toMatchObject({
      tx: { status: "confirmed" },
    });
    await synced();
    expect(await stub.raw()).toMatchObject({ status: "settled", closingBalance: 10n, withdrawn: 10n });
    expect(await eventNames(a.address)).toEqual([
      "ChannelCreated",
      "ChannelToppedUp",
      "ChannelWithdraw",
      "ChannelCloseRequested",
      "ChannelSettled",
    ]);
    expect(await mainChain.channelInfo(a.address, openBlock)).toBeNull();
  });

  it("changes nothing when run twice over the same blocks, or twice at once", async () => {
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 100n);
    await topUp(a, openBlock, 5n);
    await synced();
    const stub = channelStub(env, a.address, openBlock);
    const before = (await stub.raw())!;
    expect(before.deposit).toBe(105n);
    const events = await eventNames(a.address);

    // As if a run had died after applying the events but before moving its cursor.
    await env.DB.prepare("UPDATE sync_state SET block_number = ?, block_hash = '' WHERE id = 'main'")
      .bind(openBlock - 1)
      .run();
    const again = await synced();
    expect(again.fromBlock).toBe(openBlock);
    expect(again.events).toBeGreaterThanOrEqual(2);
    expect(await stub.raw()).toEqual(before);
    expect(await eventNames(a.address)).toEqual(events);

    const both = await Promise.all([runSync(env), runSync(env)]);
    expect(both.filter((r) => r.ran)).toHaveLength(1);
    expect(both.find((r) => !r.ran)!.reason).toMatch(/lease/);
    expect(await stub.raw()).toEqual(before);
  });

  it("holds a short lease, renewed while a slow run lives, so a killed run delays the next by 15 s at most", async () => {
    // The run's first JSON-RPC request hangs until released: a node that stopped answering.
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    let asked = () => {};
    const waiting = new Promise<void>((r) => (asked = r));
    const slowFetch: typeof fetch = async (input, init) => {
      asked();
      await held;
      return fetch(input, init);
    };
    const slow = runSync(env, { fetch: slowFetch, leaseRenewMs: 50, settle: false });
    await waiting;
    const leases: number[] = [];
    while (leases.length < 3) {
      const row = (await readSyncRow(env.DB))!;
      // What a run killed now would leave: the lease ends at most 15 s from its last renewal.
      expect(row.lockUntil! - Date.now()).toBeLessThanOrEqual(15_000);
      if (row.lockUntil !== leases.at(-1)) leases.push(row.lockUntil!);
      await new Promise((r) => setTimeout(r, 20));
    }
    // Renewed (three different ends) while the run lives, and still its own.
    expect(new Set(leases).size).toBe(3);
    expect(await runSync(env, { settle: false })).toMatchObject({ ran: false, reason: expect.stringMatching(/lease/) });
    release();
    expect(await slow).toMatchObject({ ran: true, error: null });
    expect((await readSyncRow(env.DB))!.lockUntil).toBeNull();
  });

  it("records a dead node, keeps serving known channels, and resumes from the cursor", async () => {
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 100n);
    expect((await pay(a, openBlock, 5n)).status).toBe(200);
    await synced();
    await mainChain.mine(3);
    const twoBlocks = await runSync(env, { config: { syncChunkBlocks: 1n, syncMaxChunks: 2 } });
    expect(twoBlocks).toMatchObject({ ran: true, error: null, chunks: 2, blocks: 2 });
    const cursor = (await readSyncRow(env.DB))!.blockNumber;

    const dead = await runSync(env, { config: { rpcUrl: "http://127.0.0.1:1" } });
    expect(dead.ran).toBe(true);
    expect(dead.error).toBeTruthy();
    const row = (await readSyncRow(env.DB))!;
    expect(row.blockNumber).toBe(cursor);
    expect(row.lastError).toBe(dead.error);
    expect(row.lockUntil).toBeNull();
    const stats = (await (await request("/api/1/stats")).json()) as {
      syncedBlock: number;
      sync: { lastError: string | null };
    };
    expect(stats.syncedBlock).toBe(cursor);
    expect(stats.sync.lastError).toBe(dead.error);

    // The paid path needs no chain call for a channel its object knows.
    expect((await pay(a, openBlock, 10n)).status).toBe(200);

    const resumed = await synced();
    expect(resumed.fromBlock).toBe(cursor + 1);
    expect((await readSyncRow(env.DB))!.lastError).toBeNull();
  });

  it("runs from the scheduled handler, and keeps syncedBlock following the head", async () => {
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 100n);
    const ctx = createExecutionContext();
    worker.scheduled!(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(await channelStub(env, a.address, openBlock).raw()).toMatchObject({ status: "open", deposit: 100n });
    const row = (await readSyncRow(env.DB))!;
    expect(row.blockNumber).toBeGreaterThanOrEqual(openBlock);
    expect(row.lastError).toBeNull();

    await mainChain.mine(2);
    const report = await synced();
    const stats = (await (await request("/api/1/stats")).json()) as { syncedBlock: number };
    expect(stats.syncedBlock).toBe(report.confirmedBlock);
  });

  it("shows the sync to the operator and runs one on demand, behind the admin token", async () => {
    expect((await request("/api/1/admin/sync")).status).toBe(401);
    const denied = await request("/api/1/admin/sync", { method: "POST" });
    expect(denied.status).toBe(401);
    expect(await denied.json()).toMatchObject({ error: { code: "unauthorized" } });

    const run = (await (await adminRequest("/sync", { method: "POST" })).json()) as {
      ran: boolean;
      error: string | null;
      rpcRequests: number;
    };
    expect(run).toMatchObject({ ran: true, error: null });
    expect(run.rpcRequests).toBeGreaterThan(0);
    const view = (await (await adminRequest("/sync")).json()) as {
      sync: { syncedBlock: number; reorgs: number; running: boolean };
      settings: { minConfirmations: number };
      receiver: { address: string };
    };
    expect(view.sync).toMatchObject({ running: false });
    expect(view.sync.syncedBlock).toBeGreaterThan(0);
    expect(view.settings.minConfirmations).toBe(1);
    expect(view.receiver.address).toMatch(/^0x/);
    expect(view).toMatchObject({
      disputeQueue: expect.any(Object),
      lookups: { lookups: expect.any(Number), rpcRequests: expect.any(Number) },
    });
  });
});

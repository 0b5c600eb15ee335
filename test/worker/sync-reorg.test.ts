// Reorgs and stuck transactions, on the second anvil the global setup keeps private to this file
// (evm_snapshot / evm_revert and switching automine off would take blocks or mining away from
// every other test file on the shared chain). The sync is pointed at that chain with a config
// override and a deeper MIN_CONFIRMATIONS; the paywall itself is unchanged: an object that
// learned its channel from the sync serves it without a chain call, and stops once a reorg
// removes the channel's creation.
import { env, runInDurableObject } from "cloudflare:test";
import type { Address } from "viem";
import { describe, expect, it } from "vitest";
import { RdnFlags } from "../../src/protocol/headers.js";
import { channelStub } from "../../src/worker/channel/stub.js";
import type { ReceiverObject } from "../../src/worker/receiver/object.js";
import { readSyncRow } from "../../src/worker/sync/cursor.js";
import { runSync } from "../../src/worker/sync/run.js";
import { flushProjection, onChain, pay, reorgChain, request, rpcCall, signProof, syncConfigFor } from "./helpers.js";

const rc = onChain(reorgChain);

function sync(minConfirmations: number) {
  return runSync(env, { config: syncConfigFor(reorgChain, { minConfirmations }), settle: false }).then((r) => {
    expect(r.error).toBeNull();
    expect(r.ran).toBe(true);
    return r;
  });
}

/** What a look-up learns of a channel on the private chain at its head (confirmed at depth 1). */
async function learnedOn(sender: Address, openBlock: number) {
  const head = await rc.head();
  const info = await rc.channelInfo(sender, openBlock);
  if (!info) throw new Error("no such channel on the private chain");
  return { ...info, settleBlock: Number(info.settleBlock), confirmedBlock: head };
}

async function eventNames(sender: Address): Promise<string[]> {
  const { results } = await env.DB.prepare("SELECT name FROM chain_events WHERE sender = ? ORDER BY block_number, log_index")
    .bind(sender.toLowerCase())
    .all<{ name: string }>();
  return results.map((r) => r.name);
}

describe("reorgs", () => {
  it("undoes a channel that a reorg beyond the confirmation depth removed: it stops being served", async () => {
    const depth = 3;
    await sync(depth);
    const reorgsBefore = (await readSyncRow(env.DB))!.reorgs;
    const snapshot = await rc.snapshot();
    const a = await rc.freshAccount();
    const { openBlock } = await rc.openChannel(a, 100n);
    await rc.mine(depth);
    await sync(depth);
    const stub = channelStub(env, a.address, openBlock);
    expect(await stub.raw()).toMatchObject({ status: "open", deposit: 100n });
    expect(await eventNames(a.address)).toEqual(["ChannelCreated"]);
    expect((await pay(a, openBlock, 5n)).status).toBe(200);

    // Another fork, longer than the one the channel was on.
    expect(await rc.revert(snapshot)).toBe(true);
    await rc.mine(depth + 10);
    const report = await sync(depth);
    expect(report.reorg).toMatchObject({ removedEvents: 1, channels: 1 });
    expect(report.reorg!.to.blockNumber).toBeLessThan(openBlock);

    expect(await stub.raw()).toMatchObject({ status: "removed", balance: 5n });
    const refused = await pay(a, openBlock, 10n);
    expect(refused.status).toBe(402);
    expect(refused.headers.get(RdnFlags.nonexistingChannel)).toBe("1");
    expect(await eventNames(a.address)).toEqual([]);

    const row = (await readSyncRow(env.DB))!;
    expect(row.reorgs).toBe(reorgsBefore + 1);
    expect(row.lastError).toBeNull();
    const head = await rc.head();
    expect(row.blockNumber).toBe(head - depth + 1);
    const stats = (await (await request("/api/1/stats")).json()) as { syncedBlock: number; sync: { reorgs: number } };
    expect(stats.syncedBlock).toBe(head - depth + 1);
    expect(stats.sync.reorgs).toBe(reorgsBefore + 1);

    // syncedBlock keeps following the head on the new fork.
    await rc.mine(4);
    await sync(depth);
    expect(((await (await request("/api/1/stats")).json()) as { syncedBlock: number }).syncedBlock).toBe(head + 4 - depth + 1);
  });

  it("changes nothing for a reorg within the confirmation depth: those blocks were never synced", async () => {
    const depth = 5;
    await rc.mine(depth);
    await sync(depth);
    const before = (await readSyncRow(env.DB))!;
    const snapshot = await rc.snapshot();
    const a = await rc.freshAccount();
    const { openBlock } = await rc.openChannel(a, 100n);
    await sync(depth); // the channel is not confirmed yet
    expect(await channelStub(env, a.address, openBlock).raw()).toBeNull();

    expect(await rc.revert(snapshot)).toBe(true);
    await rc.mine(depth + 3);
    const report = await sync(depth);
    expect(report.reorg).toBeNull();
    expect((await readSyncRow(env.DB))!.reorgs).toBe(before.reorgs);
    expect(await channelStub(env, a.address, openBlock).raw()).toBeNull();
    expect(await eventNames(a.address)).toEqual([]);
  });

  it("re-learns a channel from the chain at the ancestor when a reorg removes its top-up; it keeps serving", async () => {
    const depth = 2;
    const a = await rc.freshAccount();
    const { openBlock } = await rc.openChannel(a, 100n);
    await rc.mine(depth);
    await sync(depth);
    const stub = channelStub(env, a.address, openBlock);
    expect((await pay(a, openBlock, 5n)).status).toBe(200);

    const snapshot = await rc.snapshot();
    await rc.topUp(a, openBlock, 50n);
    await rc.mine(depth);
    await sync(depth);
    expect((await stub.raw())!.deposit).toBe(150n);

    expect(await rc.revert(snapshot)).toBe(true);
    await rc.mine(depth + 6);
    const report = await sync(depth);
    expect(report.reorg).toMatchObject({ removedEvents: 1, channels: 1 });
    expect(await stub.raw()).toMatchObject({ status: "open", deposit: 100n, balance: 5n });
    expect(await eventNames(a.address)).toEqual(["ChannelCreated"]);
    expect((await pay(a, openBlock, 10n)).status).toBe(200);
  });
});

describe("cost", () => {
  it("spends one batched JSON-RPC request per run, one per chunk, and one to read the first chunk's end ahead", async () => {
    await sync(1);
    const idle = await sync(1);
    expect(idle).toMatchObject({ blocks: 0, chunks: 0, rpcRequests: 1 });
    await rc.mine(5);
    const r = await runSync(env, { config: syncConfigFor(reorgChain, { minConfirmations: 1, syncChunkBlocks: 2n }), settle: false });
    expect(r).toMatchObject({ error: null, blocks: 5, chunks: 3, rpcRequests: 5 });
  });
});

describe("orphans", () => {
  it("removes a channel learned on the paid path whose creation a reorg took before the sync read it", async () => {
    const depth = 2;
    await sync(depth);
    const snapshot = await rc.snapshot();
    const a = await rc.freshAccount();
    const { openBlock } = await rc.openChannel(a, 100n);
    await rc.mine(depth);
    // The object meets the channel through a payment: what a look-up read on the private chain.
    const stub = channelStub(env, a.address, openBlock);
    const signature = await signProof(a, openBlock, 5n, { contract: reorgChain.contract, chainId: reorgChain.chainId });
    const learned = await learnedOn(a.address, openBlock);
    expect(await stub.pay({ sender: a.address, openBlock, balance: 5n, signature, price: 5n, learned })).toMatchObject({ ok: true });
    await flushProjection(a.address, openBlock);

    expect(await rc.revert(snapshot)).toBe(true);
    await rc.mine(depth + 6);
    const report = await sync(depth);
    expect(report.reorg).toBeNull();
    expect(report.orphans).toBe(1);
    expect(await stub.raw()).toMatchObject({ status: "removed" });
    const refused = await pay(a, openBlock, 10n);
    expect(refused.status).toBe(402);
    expect(refused.headers.get(RdnFlags.nonexistingChannel)).toBe("1");
  });
});

describe("stuck receiver transactions", () => {
  it("replaces a transaction that is not mined with higher fees at the same nonce", async () => {
    const a = await rc.freshAccount();
    const { openBlock } = await rc.openChannel(a, 100n);
    const balanceSig = await signProof(a, openBlock, 10n, { contract: reorgChain.contract, chainId: reorgChain.chainId });
    // A ReceiverObject of its own, sending on the private chain.
    const stub = env.RECEIVER.get(env.RECEIVER.idFromName("stuck-test"));
    await runInDurableObject(stub, (instance) => {
      (instance as unknown as { env: unknown }).env = { ...env, RPC_URL: reorgChain.rpcUrl, CONTRACT_ADDRESS: reorgChain.contract, TOKEN_ADDRESS: reorgChain.token };
    });
    await rpcCall(reorgChain.rpcUrl, "evm_setAutomine", [false]);
    try {
      const sent = await stub.submit([{ kind: "withdraw", sender: a.address, openBlock, balance: 10n, balanceSig }]);
      expect(sent.outcomes[0]).toMatchObject({ result: "sent" });
      const first = (sent.outcomes[0] as { tx: { hash: string; nonce: number } }).tx;

      const waiting = await stub.tick({ stuckAfterMs: 60_000 });
      expect(waiting).toMatchObject({ pending: 1, replaced: [], confirmed: [] });

      const bumped = await stub.tick({ stuckAfterMs: 0 });
      expect(bumped.replaced).toHaveLength(1);
      expect(bumped.replaced[0]!).toMatchObject({ nonce: first.nonce, attempts: 2, status: "pending" });
      expect(bumped.replaced[0]!.hashes).toEqual([first.hash, expect.stringMatching(/^0x/)]);
      const second = bumped.replaced[0]!.hash;
      expect(second).not.toBe(first.hash);

      await rc.mine(1);
      const done = await stub.tick();
      expect(done.confirmed).toEqual([expect.objectContaining({ hash: second, status: "confirmed", nonce: first.nonce })]);
      const { results } = await env.DB.prepare("SELECT hash, status FROM receiver_txs WHERE sender = ? ORDER BY attempts").bind(a.address.toLowerCase()).all();
      expect(results).toEqual([
        { hash: first.hash, status: "replaced" },
        { hash: second, status: "confirmed" },
      ]);
      expect(await rc.channelInfo(a.address, openBlock)).toMatchObject({ withdrawn: 10n });
    } finally {
      await rpcCall(reorgChain.rpcUrl, "evm_setAutomine", [true]);
    }
  });
});

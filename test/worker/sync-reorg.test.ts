// Reorgs and stuck transactions, on the second anvil the global setup keeps private to this file
// (evm_snapshot / evm_revert and switching automine off would take blocks or mining away from
// every other test file on the shared chain). The sync is pointed at that chain with a config
// override and a deeper MIN_CONFIRMATIONS; the paywall itself is unchanged: an object that
// learned its channel from the sync serves it without a chain call, and stops once a reorg
// removes the channel's creation. Also here, because they need a chain of their own: a chunk
// denser than a run's object calls, a top-up a reorg took after a payment relied on it, a reorg
// between a chunk's two reads, a receiver transaction whose block a reorg took, and a dispute
// retried from the queue behind many older closing channels.
import { env, runInDurableObject } from "cloudflare:test";
import type { Address } from "viem";
import { describe, expect, it } from "vitest";
import { RdnFlags } from "../../src/protocol/headers.js";
import { channelStub } from "../../src/worker/channel/stub.js";
import { receiverStub } from "../../src/worker/receiver/stub.js";
import { readSyncRow } from "../../src/worker/sync/cursor.js";
import { runSync } from "../../src/worker/sync/run.js";
import {
  flushProjection,
  onChain,
  pay,
  receiver,
  reorgChain,
  request,
  rpcCall,
  signProof,
  syncConfigFor,
} from "./helpers.js";

const rc = onChain(reorgChain);
const rcDomain = { contract: reorgChain.contract, chainId: reorgChain.chainId };
const rcEnv = () => ({
  ...env,
  RPC_URL: reorgChain.rpcUrl,
  CONTRACT_ADDRESS: reorgChain.contract,
  TOKEN_ADDRESS: reorgChain.token,
});

/** Runs `fn` with the paywall's own ReceiverObject sending on the private chain. */
async function withReceiverOnPrivateChain<T>(fn: () => Promise<T>): Promise<T> {
  const stub = receiverStub(env);
  await runInDurableObject(stub, (instance) => {
    (instance as unknown as { env: unknown }).env = rcEnv();
  });
  try {
    return await fn();
  } finally {
    await runInDurableObject(stub, (instance) => {
      (instance as unknown as { env: unknown }).env = env;
    });
  }
}

/** A payment straight to the channel's object, signed for the private chain. */
async function payObject(
  account: Parameters<typeof signProof>[0],
  openBlock: number,
  balance: bigint,
  price: bigint,
  learned?: Awaited<ReturnType<typeof learnedOn>>,
) {
  const signature = await signProof(account, openBlock, balance, rcDomain);
  return channelStub(env, account.address, openBlock).pay({
    sender: account.address,
    openBlock,
    balance,
    signature,
    price,
    learned,
  });
}

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
  const { results } = await env.DB.prepare(
    "SELECT name FROM chain_events WHERE sender = ? ORDER BY block_number, log_index",
  )
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
    expect(((await (await request("/api/1/stats")).json()) as { syncedBlock: number }).syncedBlock).toBe(
      head + 4 - depth + 1,
    );
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
    const r = await runSync(env, {
      config: syncConfigFor(reorgChain, { minConfirmations: 1, syncChunkBlocks: 2n }),
      settle: false,
    });
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
    expect(await stub.pay({ sender: a.address, openBlock, balance: 5n, signature, price: 5n, learned })).toMatchObject({
      ok: true,
    });
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
    const balanceSig = await signProof(a, openBlock, 10n, {
      contract: reorgChain.contract,
      chainId: reorgChain.chainId,
    });
    // A ReceiverObject of its own, sending on the private chain.
    const stub = env.RECEIVER.get(env.RECEIVER.idFromName("stuck-test"));
    await runInDurableObject(stub, (instance) => {
      (instance as unknown as { env: unknown }).env = {
        ...env,
        RPC_URL: reorgChain.rpcUrl,
        CONTRACT_ADDRESS: reorgChain.contract,
        TOKEN_ADDRESS: reorgChain.token,
      };
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
      expect(done.confirmed).toEqual([
        expect.objectContaining({ hash: second, status: "confirmed", nonce: first.nonce }),
      ]);
      const { results } = await env.DB.prepare(
        "SELECT hash, status FROM receiver_txs WHERE sender = ? ORDER BY attempts",
      )
        .bind(a.address.toLowerCase())
        .all();
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

describe("dense chunks", () => {
  it("completes a chunk with more channel events than a run's object calls over several runs, each event applied once", async () => {
    await sync(1);
    const accounts = [await rc.freshAccount(), await rc.freshAccount(), await rc.freshAccount()];
    const channels = [];
    for (const a of accounts) channels.push(await rc.openChannel(a, 100n));
    for (let round = 0; round < 2; round++)
      for (let i = 0; i < 3; i++) await rc.topUp(accounts[i]!, channels[i]!.openBlock, 10n);
    // Nine events of three channels, interleaved, in one chunk; two object calls a run.
    const reports = [];
    for (let run = 0; run < 20; run++) {
      const r = await runSync(env, {
        config: syncConfigFor(reorgChain, { minConfirmations: 1 }),
        settle: false,
        maxObjectCalls: 2,
      });
      expect(r.error).toBeNull();
      reports.push(r);
      if (!r.partial) break;
    }
    expect(reports[0]!.partial).toBe(true);
    expect(reports.length).toBeGreaterThan(2);
    expect(reports[reports.length - 1]!.partial).toBe(false);
    expect(reports.reduce((n, r) => n + r.events, 0)).toBe(9);
    expect((await readSyncRow(env.DB))!).toMatchObject({ blockNumber: await rc.head(), logIndex: null });
    for (let i = 0; i < 3; i++) {
      const stub = channelStub(env, accounts[i]!.address, channels[i]!.openBlock);
      expect(await stub.raw()).toMatchObject({ status: "open", deposit: 120n });
      expect(await eventNames(accounts[i]!.address)).toEqual(["ChannelCreated", "ChannelToppedUp", "ChannelToppedUp"]);
      const applied = await runInDurableObject(stub, (_i, state) =>
        state.storage.sql.exec("SELECT id FROM chain_events").toArray(),
      );
      expect(applied).toHaveLength(3);
    }
  });
});

describe("deposits and reorgs", () => {
  it("lowers a deposit whose top-up a reorg took, and disputes with the highest proof the chain's deposit covers", async () => {
    const a = await rc.freshAccount();
    const { openBlock } = await rc.openChannel(a, 500n);
    await sync(1);
    const stub = channelStub(env, a.address, openBlock);
    expect(await payObject(a, openBlock, 400n, 10n)).toMatchObject({ ok: true }); // B 400, C 10
    const snapshot = await rc.snapshot();
    await rc.topUp(a, openBlock, 500n);
    // Above the deposit it knows: the object asks for a re-read, and takes what the chain says.
    expect(await payObject(a, openBlock, 950n, 10n)).toMatchObject({
      ok: false,
      code: "insufficient_deposit",
      lookup: "deposit",
    });
    expect(await payObject(a, openBlock, 950n, 10n, await learnedOn(a.address, openBlock))).toMatchObject({ ok: true }); // B 950, C 20
    expect((await stub.raw())!.deposit).toBe(1000n);
    await flushProjection(a.address, openBlock);

    // A reorg takes the top-up away; the sender then closes claiming 0.
    expect(await rc.revert(snapshot)).toBe(true);
    await rc.mine(6);
    await rc.uncooperativeClose(a, openBlock, 0n);
    const report = await withReceiverOnPrivateChain(() =>
      runSync(env, { config: syncConfigFor(reorgChain, { minConfirmations: 1 }) }),
    );
    expect(report.error).toBeNull();
    expect(report.orphans).toBeGreaterThanOrEqual(1);
    const dispute = report.settlement!.disputes.find((d) => d.intent.sender.toLowerCase() === a.address.toLowerCase());
    expect(dispute).toMatchObject({ result: "sent", tx: { kind: "dispute", amount: "400", status: "confirmed" } });
    const settled = (await rc.channelEvents(a.address, openBlock)).find((e) => e.eventName === "ChannelSettled");
    expect(settled?.args).toMatchObject({ balance: 400n, receiverTokens: 400n });
    expect((await stub.raw())!.deposit).toBe(500n);
  });
});

describe("a reorg between a chunk's reads", () => {
  it("refuses a chunk whose logs came from another fork than its last block, even when that block holds no log", async () => {
    const a = await rc.freshAccount();
    const { openBlock } = await rc.openChannel(a, 100n);
    await sync(1);
    const snapshot = await rc.snapshot();
    await rc.topUp(a, openBlock, 50n); // only on this fork
    await rc.mine(3); // the chunk's last block holds no log
    let reorged = false;
    // The node answers the logs, then a longer fork without the top-up wins before it answers the rest.
    const node: typeof fetch = async (input, init) => {
      const body = JSON.parse(String(init?.body)) as { method: string }[] | { method: string };
      if (reorged || !Array.isArray(body) || !body.some((r) => r.method === "eth_getLogs")) return fetch(input, init);
      reorged = true;
      const ask = async (part: unknown[]) =>
        part.length ? ((await (await fetch(input, { ...init, body: JSON.stringify(part) })).json()) as unknown[]) : [];
      const logs = await ask(body.filter((r) => r.method === "eth_getLogs"));
      expect(await rc.revert(snapshot)).toBe(true);
      await rc.mine(8);
      const rest = await ask(body.filter((r) => r.method !== "eth_getLogs"));
      return new Response(JSON.stringify([...logs, ...rest]), { headers: { "content-type": "application/json" } });
    };
    const moved = await runSync(env, {
      config: syncConfigFor(reorgChain, { minConfirmations: 1 }),
      settle: false,
      fetch: node,
    });
    expect(reorged).toBe(true);
    expect(moved.error).toMatch(/changed/);
    await sync(1);
    expect((await channelStub(env, a.address, openBlock).raw())!.deposit).toBe(100n);
    expect(await eventNames(a.address)).toEqual(["ChannelCreated"]);
  });
});

describe("receiver transactions and reorgs", () => {
  it("sends again a confirmed transaction whose block a reorg took", async () => {
    const a = await rc.freshAccount();
    const { openBlock } = await rc.openChannel(a, 100n);
    const balanceSig = await signProof(a, openBlock, 10n, rcDomain);
    const stub = env.RECEIVER.get(env.RECEIVER.idFromName("reorg-test"));
    await runInDurableObject(stub, (instance) => {
      (instance as unknown as { env: unknown }).env = rcEnv();
    });
    const snapshot = await rc.snapshot();
    const sent = await stub.submit([{ kind: "withdraw", sender: a.address, openBlock, balance: 10n, balanceSig }]);
    expect(sent.outcomes[0]).toMatchObject({ result: "sent" });
    expect((await stub.tick()).confirmed).toHaveLength(1);
    expect(await rc.channelInfo(a.address, openBlock)).toMatchObject({ withdrawn: 10n });

    expect(await rc.revert(snapshot)).toBe(true);
    await rc.mine(3);
    expect(await rc.channelInfo(a.address, openBlock)).toMatchObject({ withdrawn: 0n });
    const after = await stub.tick();
    expect(after.reorged).toEqual([expect.objectContaining({ kind: "withdraw", status: "pending" })]);
    expect(after.replaced).toHaveLength(1);
    const done = await stub.tick();
    expect(done.confirmed).toEqual([expect.objectContaining({ kind: "withdraw", status: "confirmed" })]);
    expect(await rc.channelInfo(a.address, openBlock)).toMatchObject({ withdrawn: 10n });
  });
});

describe("the dispute queue", () => {
  it("retries a refused dispute until it lands, however many older closing channels the projection holds", async () => {
    // Two hundred closing channels of others, older than anything here, in the D1 projection.
    const fakes = Array.from({ length: 200 }, (_, i) => `0x${(i + 1).toString(16).padStart(40, "0")}`);
    await env.DB.batch(
      fakes.map((sender) =>
        env.DB.prepare(
          `INSERT INTO channels (id, sender, open_block, state, deposit, balance, charged, withdrawn, withdrawable, version, created_at, updated_at)
             VALUES (?, ?, 1, 'closing', '10', '10', '10', '0', '0', 1, 0, 0)`,
        ).bind(`${sender}-1`, sender),
      ),
    );
    const a = await rc.freshAccount();
    const { openBlock } = await rc.openChannel(a, 100n);
    await sync(1);
    for (const balance of [5n, 10n, 15n])
      expect(await payObject(a, openBlock, balance, 5n)).toMatchObject({ ok: true });
    await flushProjection(a.address, openBlock);
    await rc.uncooperativeClose(a, openBlock, 0n);
    const mine = (d: { intent: { sender: string } }) => d.intent.sender.toLowerCase() === a.address.toLowerCase();
    const funds = await rc.client.getBalance({ address: receiver.address });
    await rpcCall(reorgChain.rpcUrl, "anvil_setBalance", [receiver.address, "0x0"]);
    try {
      // The first attempt finds the receiver without gas.
      const first = await withReceiverOnPrivateChain(() =>
        runSync(env, { config: syncConfigFor(reorgChain, { minConfirmations: 1 }) }),
      );
      expect(first.settlement!.disputes.find(mine)).toMatchObject({
        result: "refused",
        reason: expect.stringMatching(/lacks gas/),
      });
    } finally {
      await rpcCall(reorgChain.rpcUrl, "anvil_setBalance", [receiver.address, `0x${funds.toString(16)}`]);
    }
    await flushProjection(a.address, openBlock);
    const second = await withReceiverOnPrivateChain(() =>
      runSync(env, { config: syncConfigFor(reorgChain, { minConfirmations: 1 }) }),
    );
    expect(second.settlement!.disputes.find(mine)).toMatchObject({
      result: "sent",
      tx: { kind: "dispute", amount: "15", status: "confirmed" },
    });
    const settled = (await rc.channelEvents(a.address, openBlock)).find((e) => e.eventName === "ChannelSettled");
    expect(settled?.args).toMatchObject({ balance: 15n });
    const third = await withReceiverOnPrivateChain(() =>
      runSync(env, { config: syncConfigFor(reorgChain, { minConfirmations: 1 }) }),
    );
    expect(third.settlement!.disputes.filter(mine)).toEqual([]);
    const { results } = await env.DB.prepare("SELECT status, attempts FROM dispute_queue WHERE sender = ?")
      .bind(a.address.toLowerCase())
      .all();
    expect(results).toEqual([{ status: "done", attempts: 2 }]);
    await env.DB.prepare("DELETE FROM channels WHERE open_block = 1").run();
  });
});

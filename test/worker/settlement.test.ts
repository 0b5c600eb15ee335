// Settlement against the shared anvil, inside workerd: a cheating uncooperative close is
// disputed by the sync before the challenge ends and the receiver is paid the last accepted
// balance; earnings are withdrawn on demand (admin) and by threshold (cron), never above the
// charged total, leaving the sender's credit refundable while the channel keeps serving; the
// receiver closes a channel whose sender asked to close; a receiver without gas raises an
// alert. Filtered by this file's fresh senders: the chain and the receiver are shared.
import { env, runInDurableObject } from "cloudflare:test";
import type { Address, Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { microTransferChannelsAbi } from "../../src/protocol/abi.js";
import { RdnHeaders } from "../../src/protocol/headers.js";
import { channelStub } from "../../src/worker/channel/stub.js";
import type { ReceiverObject } from "../../src/worker/receiver/object.js";
import type { SubmitResult } from "../../src/worker/receiver/txs.js";
import { receiverStub } from "../../src/worker/receiver/stub.js";
import { runSync } from "../../src/worker/sync/run.js";
import {
  adminRequest,
  flushProjection,
  freshAccount,
  mainChain,
  openChannel,
  pay,
  receiver,
  request,
  signCloseRequest,
  signProof,
  wallet,
} from "./helpers.js";

const isMine = (sender: Address) => (o: { sender?: string; intent?: { sender: string } }) =>
  (o.sender ?? o.intent!.sender).toLowerCase() === sender.toLowerCase();

async function settledEvent(sender: Address, openBlock: number) {
  const events = await mainChain.channelEvents(sender, openBlock);
  return events.find((e) => e.eventName === "ChannelSettled") ?? null;
}

async function askToClose(a: ReturnType<typeof privateKeyToAccount>, openBlock: number) {
  const deadline = BigInt(Math.floor(Date.now() / 1000) + 300);
  const res = await request(`/api/1/channels/${a.address}/${openBlock}`, {
    method: "DELETE",
    headers: {
      [RdnHeaders.closeSignature]: await signCloseRequest(a, openBlock, deadline),
      [RdnHeaders.closeDeadline]: String(deadline),
    },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { balance: string; closingSignature: Hex };
}

type Outcomes = {
  sent: { sender: string; balance: string; tx: { status: string; kind: string } }[];
  covered: { sender: string }[];
  refused: { sender: string; reason: string }[];
};

describe("disputes", () => {
  it("settles a sender's close claiming 0 after paying 15 at 15, before the settle block, with no action from anyone", async () => {
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 100n);
    for (const balance of [5n, 10n, 15n]) expect((await pay(a, openBlock, balance)).status).toBe(200);

    const { settleBlock } = await mainChain.uncooperativeClose(a, openBlock, 0n);
    const report = await runSync(env);
    expect(report.error).toBeNull();
    const dispute = report.settlement!.disputes.find(isMine(a.address));
    expect(dispute).toMatchObject({ result: "sent", tx: { kind: "dispute", amount: "15", status: "confirmed" } });

    const settled = await settledEvent(a.address, openBlock);
    expect(settled).not.toBeNull();
    expect(settled!.args).toMatchObject({ balance: 15n, receiverTokens: 15n });
    expect(Number(settled!.blockNumber)).toBeLessThan(settleBlock);
    expect(await mainChain.channelInfo(a.address, openBlock)).toBeNull();

    // The next run learns the settlement and sends nothing more.
    const next = await runSync(env);
    expect(next.settlement!.disputes.filter(isMine(a.address))).toEqual([]);
    expect(await channelStub(env, a.address, openBlock).raw()).toMatchObject({
      status: "settled",
      closingBalance: 15n,
    });
    const { results } = await env.DB.prepare("SELECT kind, status, amount FROM receiver_txs WHERE sender = ?")
      .bind(a.address.toLowerCase())
      .all();
    expect(results).toEqual([{ kind: "dispute", status: "confirmed", amount: "15" }]);
  });

  it("leaves an honest close that reclaims unspent credit alone", async () => {
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 100n);
    expect((await pay(a, openBlock, 30n)).status).toBe(200); // B 30, C 5
    await mainChain.uncooperativeClose(a, openBlock, 5n);
    const report = await runSync(env);
    expect(report.settlement!.disputes.filter(isMine(a.address))).toEqual([]);
    expect(await channelStub(env, a.address, openBlock).raw()).toMatchObject({ status: "closing", closingBalance: 5n });
    expect(await mainChain.channelInfo(a.address, openBlock)).toMatchObject({ closingBalance: 5n });
    // A transaction that would revert is not sent; the contract's error says why.
    const late = await receiverStub(env).submit([
      { kind: "withdraw", sender: a.address, openBlock, balance: 30n, balanceSig: await signProof(a, openBlock, 30n) },
    ]);
    expect(late.outcomes).toEqual([expect.objectContaining({ result: "refused", reason: "reverts: ChannelClosing" })]);
  });
});

describe("honest closes", () => {
  it("settles an honest close by itself once the challenge is over, with no action from anyone", async () => {
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 100n);
    expect((await pay(a, openBlock, 30n)).status).toBe(200); // B 30, C 5
    const { settleBlock } = await mainChain.uncooperativeClose(a, openBlock, 5n);
    const during = await runSync(env);
    expect(during.error).toBeNull();
    expect(during.settlement!.disputes.filter(isMine(a.address))).toEqual([]);
    expect(during.settlement!.settles.filter(isMine(a.address))).toEqual([]);

    await mainChain.mine(settleBlock - (await mainChain.head()) + 1);
    const after = await runSync(env);
    expect(after.settlement!.settles.find(isMine(a.address))).toMatchObject({
      result: "sent",
      tx: { kind: "settle", status: "confirmed" },
    });
    expect((await settledEvent(a.address, openBlock))!.args).toMatchObject({ balance: 5n, receiverTokens: 5n });
    const next = await runSync(env);
    expect(next.settlement!.settles.filter(isMine(a.address))).toEqual([]);
  });
});

describe("withdrawals", () => {
  it("POST /admin/withdraw needs the token and a good body, then withdraws only what was charged; the channel keeps serving", async () => {
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 100n);
    expect((await pay(a, openBlock, 10n)).status).toBe(200); // B 10, C 5
    expect((await pay(a, openBlock, 30n)).status).toBe(200); // B 30, C 10: the proof for 10 is withdrawable, 20 is credit
    await flushProjection(a.address, openBlock);

    const body = JSON.stringify({ minimum: "1" });
    const denied = await request("/api/1/admin/withdraw", {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    });
    expect(denied.status).toBe(401);
    expect(await denied.json()).toMatchObject({ error: { code: "unauthorized" } });
    for (const bad of [
      "not json",
      "{}",
      JSON.stringify({ minimum: 5 }),
      JSON.stringify({ minimum: "-1" }),
      JSON.stringify({ minimum: "0x10" }),
    ]) {
      const res = await adminRequest("/withdraw", { method: "POST", body: bad });
      expect(res.status, bad).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "bad_request" } });
    }
    expect(await mainChain.channelInfo(a.address, openBlock)).toMatchObject({ withdrawn: 0n });

    const res = await adminRequest("/withdraw", { method: "POST", body });
    expect(res.status).toBe(200);
    const out = (await res.json()) as Outcomes;
    expect(out.sent.find(isMine(a.address))).toMatchObject({
      balance: "10",
      tx: { kind: "withdraw", status: "confirmed" },
    });
    expect(await mainChain.channelInfo(a.address, openBlock)).toMatchObject({ deposit: 100n, withdrawn: 10n });

    // Asking again sends nothing: the confirmed withdraw covers it.
    const again = (await (await adminRequest("/withdraw", { method: "POST", body })).json()) as Outcomes;
    expect(again.sent.filter(isMine(a.address))).toEqual([]);
    expect(again.covered.filter(isMine(a.address))).toHaveLength(1);

    expect((await pay(a, openBlock, 35n)).status).toBe(200); // still serving: B 35, C 15
    await runSync(env);
    expect(await channelStub(env, a.address, openBlock).raw()).toMatchObject({
      status: "open",
      withdrawn: 10n,
      charged: 15n,
      balance: 35n,
    });

    // The unspent credit is still the sender's: it closes at C with the receiver's closing proof.
    const close = await askToClose(a, openBlock);
    expect(close.balance).toBe("15");
    const w = wallet(a);
    await mainChain.client.waitForTransactionReceipt({
      hash: await w.writeContract({
        chain: null,
        address: mainChain.chain.contract,
        abi: microTransferChannelsAbi,
        functionName: "cooperativeClose",
        args: [receiver.address, openBlock, 15n, await signProof(a, openBlock, 15n), close.closingSignature],
      }),
    });
    expect((await settledEvent(a.address, openBlock))!.args).toMatchObject({ balance: 15n, receiverTokens: 5n });
  });

  it("withdraws in the cron once the withdrawable amount reaches WITHDRAW_THRESHOLD", async () => {
    const small = await freshAccount();
    const big = await freshAccount();
    const s = await openChannel(small, 100n);
    const b = await openChannel(big, 100n);
    expect((await pay(small, s.openBlock, 5n)).status).toBe(200); // withdrawable 5
    expect((await pay(big, b.openBlock, 5n)).status).toBe(200);
    expect((await pay(big, b.openBlock, 10n)).status).toBe(200); // withdrawable 10
    await flushProjection(small.address, s.openBlock);
    await flushProjection(big.address, b.openBlock);

    const report = await runSync(env, { config: { withdrawThreshold: 10n } });
    expect(report.error).toBeNull();
    expect(report.settlement!.withdrawals.filter(isMine(small.address))).toEqual([]);
    expect(report.settlement!.withdrawals.find(isMine(big.address))).toMatchObject({
      result: "sent",
      tx: { amount: "10", status: "confirmed" },
    });
    expect(await mainChain.channelInfo(big.address, b.openBlock)).toMatchObject({ withdrawn: 10n });
    expect(await mainChain.channelInfo(small.address, s.openBlock)).toMatchObject({ withdrawn: 0n });
  });
});

describe("receiver-side close and alerts", () => {
  it("closes cooperatively at the newest proof <= C once the sender asked, and not before", async () => {
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 100n);
    expect((await pay(a, openBlock, 10n, "/echodyn/10")).status).toBe(200); // B 10, C 10
    expect((await pay(a, openBlock, 20n, "/echodyn/3")).status).toBe(200); // B 20, C 13

    const early = await adminRequest(`/channels/${a.address}/${openBlock}/close`, { method: "POST" });
    expect(early.status).toBe(400);
    expect((await early.json()) as object).toMatchObject({ error: { code: "bad_request" } });
    expect((await adminRequest(`/channels/0x12/${openBlock}/close`, { method: "POST" })).status).toBe(400);
    expect(
      (await adminRequest(`/channels/${a.address}/${openBlock + 1_000_000}/close`, { method: "POST" })).status,
    ).toBe(404);
    expect((await request(`/api/1/admin/channels/${a.address}/${openBlock}/close`, { method: "POST" })).status).toBe(
      401,
    );

    expect((await askToClose(a, openBlock)).balance).toBe("13");
    const res = await adminRequest(`/channels/${a.address}/${openBlock}/close`, { method: "POST" });
    expect(res.status).toBe(200);
    const out = (await res.json()) as Outcomes;
    expect(out.sent).toEqual([
      expect.objectContaining({ balance: "10", tx: expect.objectContaining({ kind: "close", status: "confirmed" }) }),
    ]);
    expect((await settledEvent(a.address, openBlock))!.args).toMatchObject({ balance: 10n, receiverTokens: 10n });
  });

  it("raises an alert instead of sending when the receiver cannot pay for gas", async () => {
    const poorKey =
      `0x${[...crypto.getRandomValues(new Uint8Array(32))].map((x) => x.toString(16).padStart(2, "0")).join("")}` as Hex;
    const poor = privateKeyToAccount(poorKey);
    const a = await freshAccount();
    const { openBlock } = await mainChain.openChannel(a, 100n, poor.address);
    const balanceSig = await signProof(a, openBlock, 10n, { receiver: poor.address });
    const stub = env.RECEIVER.get(env.RECEIVER.idFromName(`alert-test-${poor.address}`));
    const result = await runInDurableObject(stub, async (instance) => {
      const obj = instance as unknown as ReceiverObject;
      (obj as unknown as { env: unknown }).env = { ...env, RECEIVER_PRIVATE_KEY: poorKey };
      return obj.submit([{ kind: "withdraw", sender: a.address, openBlock, balance: 10n, balanceSig }]);
    });
    const submitted = result as SubmitResult;
    expect(submitted.alert).toMatch(/lacks gas/);
    expect(submitted.outcomes[0]).toMatchObject({ result: "refused", alert: true });
    const status = await stub.status();
    expect(status.alert).toMatch(new RegExp(poor.address));
    expect(status.txs).toEqual([]);
  });
});

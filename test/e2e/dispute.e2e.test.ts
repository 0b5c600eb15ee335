// Chain settlement end to end on the `npm start` stack (anvil, wrangler dev, the scheduled handler
// triggered every few seconds), over HTTP and real transactions only: a sender who pays 15 and
// then closes uncooperatively claiming 0 is settled on chain at 15 by the paywall before the
// settle block, with no action from anyone; the admin withdraw needs its token and takes only
// what was charged while the channel keeps serving; a channel a reorg removed stops being
// served while stats.syncedBlock keeps following the head.
import { createWalletClient, http, type Address } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { microTransferChannelsAbi } from "../../src/protocol/abi.js";
import { mine, revert, rpc, snapshot } from "../../scripts/anvil.js";
import { startStack, type Stack } from "../../scripts/stack.js";
import { E2EClient, errorCode, flagsOf, type Channel } from "./client.js";

let stack: Stack;
let client: E2EClient;

beforeAll(async () => {
  stack = await startStack();
  client = new E2EClient(stack);
});

afterAll(async () => {
  await stack?.stop();
});

/** Polls `probe` until it returns a value (not undefined), or fails after `ms`. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function settledEvent(ch: Channel) {
  const logs = await client.pub.getContractEvents({
    address: stack.contract,
    abi: microTransferChannelsAbi,
    eventName: "ChannelSettled",
    args: { sender: ch.sender, receiver: stack.receiver, openBlock: ch.openBlock },
    fromBlock: stack.deployBlock,
  });
  return logs[0];
}

const head = async () => Number(await rpc<string>(stack.rpcUrl, "eth_blockNumber"));
const stats = async () =>
  (await (await client.fetch("/api/1/stats")).json()) as {
    syncedBlock: number | null;
    sync: { reorgs: number; lastError: string | null } | null;
  };
const admin = (path: string, init: RequestInit = {}) =>
  client.fetch(`/api/1/admin${path}`, {
    ...init,
    headers: { authorization: `Bearer ${stack.adminToken}`, "content-type": "application/json" },
  });

describe("disputes on the running stack", () => {
  it("settles a sender who paid 15 and then claims 0 at 15, before settleBlock, with no action from anyone", async () => {
    const ch = await client.newChannel(100n);
    for (const balance of [5n, 10n, 15n]) expect((await client.pay(ch, balance, "/echofix/x")).status).toBe(200);

    const wallet = createWalletClient({ account: ch.account, chain: client.chain, transport: http(stack.rpcUrl) });
    const hash = await wallet.writeContract({
      address: stack.contract,
      abi: microTransferChannelsAbi,
      functionName: "uncooperativeClose",
      args: [stack.receiver, ch.openBlock, 0n],
    });
    expect((await client.pub.waitForTransactionReceipt({ hash })).status).toBe("success");
    const { settleBlock, closingBalance } = await client.channelInfo(ch);
    expect(closingBalance).toBe(0n);

    const settled = await eventually("the paywall's dispute", () => settledEvent(ch));
    expect(settled.args).toMatchObject({ balance: 15n, receiverTokens: 15n });
    expect(settled.blockNumber).toBeLessThan(BigInt(settleBlock));
    await expect(client.channelInfo(ch)).rejects.toThrow();
  });
});

describe("earnings on the running stack", () => {
  it("POST /api/1/admin/withdraw: 401 without the token; with it, only the charged total is withdrawn and the channel keeps serving", async () => {
    const ch = await client.newChannel(100n);
    expect((await client.pay(ch, 10n, "/echofix/x")).status).toBe(200); // B 10, C 5
    const second = await client.pay(ch, 30n, "/echofix/x"); // B 30, C 10
    expect(second.status).toBe(200);
    expect(second.headers.get("RDN-Credit")).toBe("20");

    const denied = await client.fetch("/api/1/admin/withdraw", {
      method: "POST",
      body: JSON.stringify({ minimum: "1" }),
      headers: { "content-type": "application/json" },
    });
    expect(denied.status).toBe(401);
    expect(await errorCode(denied)).toBe("unauthorized");
    expect((await client.channelInfo(ch)).withdrawn).toBe(0n);

    // The admin view lists channels from a projection about a second behind: ask until it is there.
    const sent = await eventually(
      "the withdraw",
      async () => {
        const res = await admin("/withdraw", { method: "POST", body: JSON.stringify({ minimum: "1" }) });
        expect(res.status).toBe(200);
        const body = (await res.json()) as { sent: { sender: Address; balance: string; tx: { status: string } }[] };
        return body.sent.find((s) => s.sender.toLowerCase() === ch.sender.toLowerCase());
      },
      20_000,
    );
    expect(sent.balance).toBe("10");
    const info = await eventually("the withdraw to be mined", async () => {
      const i = await client.channelInfo(ch);
      return i.withdrawn > 0n ? i : undefined;
    });
    expect(info.withdrawn).toBe(10n); // C was 10; the 20 of credit stays the sender's
    expect(info.deposit).toBe(100n);

    const third = await client.pay(ch, 35n, "/echofix/x");
    expect(third.status).toBe(200);
    expect(third.headers.get("RDN-Credit")).toBe("20");
  });
});

describe("reorgs on the running stack", () => {
  it("stops serving a channel a reorg removed, and stats.syncedBlock keeps following the head", async () => {
    await eventually("the sync to reach the head", async () =>
      (await stats()).syncedBlock === (await head()) ? true : undefined,
    );
    const reorgsBefore = (await stats()).sync!.reorgs;
    const snap = await snapshot(stack.rpcUrl);
    const ch = await client.newChannel(100n);
    expect((await client.pay(ch, 5n, "/echofix/x")).status).toBe(200);
    await eventually("the sync to read the channel's block", async () =>
      ((await stats()).syncedBlock ?? 0) >= ch.openBlock ? true : undefined,
    );

    expect(await revert(stack.rpcUrl, snap)).toBe(true);
    await mine(stack.rpcUrl, 6);
    // Until the next scheduled sync undoes it, the channel is still served: each probe pays 5 more.
    let balance = 5n;
    const refused = await eventually("the channel to stop being served", async () => {
      balance += 5n;
      const res = await client.pay(ch, balance, "/echofix/x");
      if (res.status === 200) return undefined;
      return res;
    });
    expect(refused.status).toBe(402);
    expect(flagsOf(refused)).toEqual(["RDN-Nonexisting-Channel"]);
    const after = await eventually("the sync to follow the new head", async () => {
      const s = await stats();
      return s.syncedBlock === (await head()) ? s : undefined;
    });
    expect(after.sync!.reorgs).toBeGreaterThan(reorgsBefore);
    expect(after.sync!.lastError).toBeNull();

    await mine(stack.rpcUrl, 3);
    const target = await head();
    await eventually("syncedBlock to follow the head", async () =>
      (await stats()).syncedBlock === target ? true : undefined,
    );
  });
});

// Confirmations: a channel younger than MIN_CONFIRMATIONS is refused with
// RDN-Insufficient-Confirmations until enough blocks are mined, and the refusal stores nothing.
// The look-up is the LookupObject's (src/worker/lookup); this test gives it an object of its
// own that judges with MIN_CONFIRMATIONS = 50, and hands what it learns to the channel's object.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { channelStub } from "../../src/worker/channel/stub.js";
import type { LookupAnswer } from "../../src/worker/lookup/object.js";
import { chain, freshAccount, openChannel, signProof } from "./helpers.js";

async function mine(blocks: number) {
  await fetch(chain.rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "anvil_mine", params: [`0x${blocks.toString(16)}`] }),
  });
}

describe("confirmations", () => {
  it("refuses a channel without enough confirmations, then accepts it once they are there", async () => {
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 100n);
    const stub = channelStub(env, a.address, openBlock);
    const signature = await signProof(a, openBlock, 5n);
    const request = { sender: a.address, openBlock, balance: 5n, signature, price: 5n };
    const lookups = env.LOOKUPS.get(env.LOOKUPS.idFromName("confirmations-test"));
    // A fresh env object gives a fresh config: this object judges with MIN_CONFIRMATIONS = 50.
    await runInDurableObject(lookups, (instance) => {
      (instance as unknown as { env: unknown }).env = { ...env, MIN_CONFIRMATIONS: "50" };
    });
    expect(await lookups.lookup(a.address, openBlock)).toEqual({ status: "unconfirmed" });
    // The channel's object never calls the chain: it asks its caller to look the channel up.
    expect(await stub.pay(request)).toMatchObject({ ok: false, code: "nonexisting_channel", lookup: "channel" });
    expect(await stub.raw()).toBeNull();

    await mine(60);
    await new Promise((r) => setTimeout(r, 1600)); // the short negative cache expires
    const found = (await lookups.lookup(a.address, openBlock)) as LookupAnswer;
    expect(found).toMatchObject({ status: "found", channel: { deposit: 100n } });
    if (found.status !== "found") throw new Error(found.status);
    expect(await stub.pay({ ...request, learned: found.channel })).toMatchObject({ ok: true, cost: 5n });
    expect(await stub.raw()).toMatchObject({ deposit: 100n, balance: 5n, readBlock: found.channel.confirmedBlock });
  });
});

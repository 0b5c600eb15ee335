// Confirmations: a channel younger than MIN_CONFIRMATIONS is refused with
// RDN-Insufficient-Confirmations until enough blocks are mined, and the refusal stores nothing.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ChannelObject } from "../../src/worker/channel/object.js";
import { channelStub } from "../../src/worker/channel/stub.js";
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
    // This object judges with MIN_CONFIRMATIONS = 50: a fresh env object gives a fresh config.
    const strict = { ...env, MIN_CONFIRMATIONS: "50" };
    const refused = await runInDurableObject(stub, async (instance) => {
      const obj = instance as unknown as ChannelObject;
      (obj as unknown as { env: unknown }).env = strict;
      return obj.pay(request);
    });
    expect(refused).toMatchObject({ ok: false, code: "insufficient_confirmations" });
    expect(await stub.raw()).toBeNull();
    await mine(60);
    await new Promise((r) => setTimeout(r, 1600)); // the short negative cache expires
    const accepted = await runInDurableObject(stub, (instance) => (instance as unknown as ChannelObject).pay(request));
    expect(accepted).toMatchObject({ ok: true, cost: 5n });
  });
});

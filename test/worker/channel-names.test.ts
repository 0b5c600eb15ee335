// The channel objects' names: one object per channel of one deployment (chain id, contract,
// receiver), so a Durable Object namespace reused for another deployment never mixes states; and
// the upgrade from the pre-1.1 names (`<sender>-<openBlock>`): the new object adopts the old
// one's state only when its last proof is signed for this deployment, and the old one serves
// nothing any more.
import { abortAllDurableObjects, env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { PrivateKeyAccount } from "viem/accounts";
import { encodeState } from "../../src/worker/channel/codec.js";
import { acceptProof, newChannelState } from "../../src/worker/channel/state.js";
import { channelObjectName, channelStub, legacyChannelStub, parseChannelObjectName } from "../../src/worker/channel/stub.js";
import { issueSession } from "../../src/worker/session.js";
import { chain, freshAccount, keys, openChannel, pay, receiver, request, signProof } from "./helpers.js";

const OTHER_CONTRACT = "0x00000000000000000000000000000000000c0de1";

describe("channel object names", () => {
  it("name chain id, contract and receiver: another deployment on the same namespace reaches another object", async () => {
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 100n);
    expect((await pay(a, openBlock, 5n)).status).toBe(200);
    const here = channelStub(env, a.address, openBlock);
    const others = [
      { ...env, CONTRACT_ADDRESS: OTHER_CONTRACT },
      { ...env, CHAIN_ID: "8453" },
      { ...env, RECEIVER_PRIVATE_KEY: keys[2]! },
    ];
    for (const other of others) {
      const there = channelStub(other, a.address, openBlock);
      expect(there.id.equals(here.id)).toBe(false);
      expect(await there.raw()).toBeNull();
    }
    expect((await here.raw())?.balance).toBe(5n);
    const name = channelObjectName({ chainId: chain.chainId, contract: chain.contract, receiverAddress: receiver.address }, a.address, openBlock);
    expect(name).toBe(`${chain.chainId}:${chain.contract.toLowerCase()}:${receiver.address.toLowerCase()}:${a.address.toLowerCase()}-${openBlock}`);
    expect(parseChannelObjectName(name)).toEqual({ chainId: chain.chainId, contract: chain.contract, receiver: receiver.address, sender: a.address, openBlock });
    expect(parseChannelObjectName(`${a.address.toLowerCase()}-${openBlock}`)).toBeNull();
  });
});

/** Stores `balance`/`charged` on the channel's pre-1.1 object, as that version would have. */
async function legacyState(account: PrivateKeyAccount, openBlock: number, balance: bigint, charged: bigint, domain: { contract?: `0x${string}` } = {}) {
  const s = newChannelState(account.address, openBlock, { deposit: 100n, withdrawn: 0n, settleBlock: 0, closingBalance: 0n }, Date.now());
  const accepted = acceptProof(s, { balance, signature: await signProof(account, openBlock, balance, domain), price: charged, exact: false }, Date.now());
  if (!accepted.ok) throw new Error(accepted.code);
  await runInDurableObject(legacyChannelStub(env, account.address, openBlock), (_instance, state) => {
    state.storage.sql.exec("CREATE TABLE IF NOT EXISTS channel (id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT NOT NULL)");
    state.storage.sql.exec("INSERT OR REPLACE INTO channel (id, data) VALUES (1, ?)", encodeState(accepted.state));
  });
}

describe("upgrading from the pre-1.1 names", () => {
  it("adopts an old object's state signed for this deployment, and the old object serves nothing", async () => {
    const a = await freshAccount();
    const { openBlock } = await openChannel(a, 100n);
    await legacyState(a, openBlock, 30n, 20n);
    await abortAllDurableObjects();
    const info = await request(`/api/1/channels/${a.address}/${openBlock}`);
    expect(await info.json()).toMatchObject({ state: "open", deposit: "100", balance: "30", charged: "20", credit: "10" });
    const token = await issueSession(env.SESSION_SECRET as string, { sender: a.address, openBlock }, 600);
    const spent = await request("/echofix/x", { headers: { "RDN-Session": token } });
    expect(spent.status).toBe(200);
    expect(spent.headers.get("RDN-Credit")).toBe("5");
    const old = await legacyChannelStub(env, a.address, openBlock).info(a.address, openBlock);
    expect(old).toMatchObject({ ok: false, code: "internal_error" });
  });

  it("leaves behind an old object whose state is signed for another deployment", async () => {
    const b = await freshAccount();
    const { openBlock } = await openChannel(b, 100n);
    await legacyState(b, openBlock, 30n, 20n, { contract: OTHER_CONTRACT });
    await abortAllDurableObjects();
    const info = await request(`/api/1/channels/${b.address}/${openBlock}`);
    expect(await info.json()).toMatchObject({ state: "open", deposit: "100", balance: "0", charged: "0", credit: "0" });
  });
});

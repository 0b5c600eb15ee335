import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { signBalanceProof } from "../protocol/sign.js";
import { Edge402Error } from "./errors.js";
import { ChannelLedger } from "./ledger.js";
import { isOurBalance, reconcileRefusedProof, takeServerBalance } from "./reconcile.js";

// anvil accounts 3 (the sender) and 4 (someone else); real signatures, no stand-ins.
const sender = privateKeyToAccount("0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6");
const stranger = privateKeyToAccount("0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a");
const id = {
  chainId: 31337,
  contract: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
  token: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  sender: sender.address,
  receiver: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  openBlock: 4,
} as const;

const signBy = (account: typeof sender, balance: bigint, openBlock: number = id.openBlock) =>
  signBalanceProof(account, { chainId: id.chainId, contract: id.contract, receiver: id.receiver, openBlock, balance });

async function reserveSigned(l: ChannelLedger, amount: bigint): Promise<bigint> {
  const b = l.reserve(amount);
  l.attachSignature(b, await signBy(sender, b));
  return b;
}

const report = (balance: bigint, extra: { signature?: `0x${string}`; credit?: bigint } = {}) => ({
  sender: id.sender,
  openBlock: id.openBlock,
  balance,
  ...extra,
});

describe("isOurBalance", () => {
  it("takes zero, balances signed here, and balances whose signature recovers to the sender", async () => {
    const l = new ChannelLedger(id, 500n);
    expect(await isOurBalance(l, 0n, undefined)).toBe(true);
    const b = await reserveSigned(l, 5n);
    expect(await isOurBalance(l, b, undefined)).toBe(true);
    expect(await isOurBalance(l, 40n, await signBy(sender, 40n))).toBe(true);
  });

  it("refuses a balance signed by someone else, for another channel, or not signed at all", async () => {
    const l = new ChannelLedger(id, 500n);
    expect(await isOurBalance(l, 40n, await signBy(stranger, 40n))).toBe(false);
    expect(await isOurBalance(l, 40n, await signBy(sender, 40n, 5))).toBe(false);
    expect(await isOurBalance(l, 40n, await signBy(sender, 41n))).toBe(false);
    expect(await isOurBalance(l, 40n, undefined)).toBe(false);
  });
});

describe("reconcileRefusedProof", () => {
  it("a proof overtaken by a higher one of ours is paid from the credit it became", async () => {
    const l = new ChannelLedger(id, 500n);
    const low = await reserveSigned(l, 5n);
    const high = await reserveSigned(l, 5n);
    // The server took `high` first: B = 10, C = 5, credit 5; `low` was refused.
    const outcome = await reconcileRefusedProof(l, { balance: low, price: 5n }, report(high, { credit: 5n }));
    expect(outcome).toBe("credit");
    expect(l.accepted).toBe(high);
    expect(l.credit).toBe(5n);
    expect(l.spentHere).toBe(10n);
  });

  it("when the credit is already gone, pays with a new proof", async () => {
    const l = new ChannelLedger(id, 500n);
    const low = await reserveSigned(l, 5n);
    const high = await reserveSigned(l, 5n);
    expect(await reconcileRefusedProof(l, { balance: low, price: 5n }, report(high, { credit: 0n }))).toBe("proof");
  });

  it("after a lost store, adopts the server's verified balance and signs above it", async () => {
    const l = ChannelLedger.recovered(id, { deposit: 500n, withdrawn: 0n, settleBlock: 0, closingBalance: 0n });
    const first = await reserveSigned(l, 5n);
    const serverSig = await signBy(sender, 25n);
    const outcome = await reconcileRefusedProof(
      l,
      { balance: first, price: 5n },
      report(25n, { signature: serverSig, credit: 0n }),
    );
    expect(outcome).toBe("proof");
    expect([l.accepted, l.acceptedSignature, l.spentHere]).toEqual([25n, serverSig, 0n]);
    expect(l.reserve(5n)).toBe(30n);
  });

  it("a lost store whose old balance overlaps this process's proofs is not mistaken for credit", async () => {
    const l = ChannelLedger.recovered(id, { deposit: 500n, withdrawn: 0n, settleBlock: 0, closingBalance: 0n });
    const proofs = [];
    for (let i = 0; i < 6; i++) proofs.push(await reserveSigned(l, 5n));
    // The server's B = 25 came from an earlier process; everything of ours at or below it is refused.
    const outcome = await reconcileRefusedProof(
      l,
      { balance: proofs[0]!, price: 5n },
      report(25n, { signature: await signBy(sender, 25n), credit: 0n }),
    );
    expect(outcome).toBe("proof");
    expect(l.accepted).toBe(25n);
  });

  it("stops with balance_mismatch when the server's balance is not ours, changing nothing else", async () => {
    const l = new ChannelLedger(id, 500n);
    const b = await reserveSigned(l, 5n);
    const err = await reconcileRefusedProof(
      l,
      { balance: b, price: 5n },
      report(50n, { signature: await signBy(stranger, 50n) }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Edge402Error);
    expect((err as Edge402Error).code).toBe("balance_mismatch");
    expect(l.accepted).toBe(0n);
    expect(l.signed).toBe(0n);
  });

  it("a price above what was signed (B below the proof) just asks for a new proof", async () => {
    const l = new ChannelLedger(id, 500n);
    l.settleAccepted(await reserveSigned(l, 5n));
    const b = await reserveSigned(l, 5n);
    expect(await reconcileRefusedProof(l, { balance: b, price: 7n }, report(5n, { credit: 0n }))).toBe("proof");
    expect(l.signed).toBe(5n);
  });
});

describe("takeServerBalance", () => {
  it("raises B to a balance of ours reported by a later response", async () => {
    const l = new ChannelLedger(id, 500n);
    const a = await reserveSigned(l, 5n);
    const b = await reserveSigned(l, 5n);
    const before = l.signed;
    l.settleAccepted(a);
    takeServerBalance(l, report(b), before);
    expect(l.accepted).toBe(b);
    expect(l.spentHere).toBe(10n);
  });
});

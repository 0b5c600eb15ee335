import type { Address, Hex } from "viem";
import { describe, expect, it } from "vitest";
import { ChannelLedger } from "./ledger.js";

const id = {
  chainId: 31337,
  contract: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512" as Address,
  token: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address,
  sender: "0x90F79bf6EB2c4f870365E785982E1f101E93b906" as Address,
  receiver: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as Address,
  openBlock: 4,
};
const sig = (n: number): Hex => `0x${n.toString(16).padStart(2, "0").repeat(65)}` as Hex;

describe("ChannelLedger reservations", () => {
  it("hands out strictly increasing balances, never the same one twice", () => {
    const l = new ChannelLedger(id, 1000n);
    const balances = Array.from({ length: 50 }, (_, i) => l.reserve(BigInt((i % 3) + 1)));
    expect(new Set(balances).size).toBe(50);
    expect(balances).toEqual([...balances].sort((a, b) => (a < b ? -1 : 1)));
    expect(l.signed).toBe(balances.at(-1));
    expect(l.pendingProofs).toBe(50);
  });

  it("refuses amounts the deposit does not cover, and channels that are not open", () => {
    const l = new ChannelLedger(id, 10n);
    expect(l.reserve(10n)).toBe(10n);
    expect(() => l.reserve(1n)).toThrow(RangeError);
    expect(() => l.reserve(0n)).toThrow(RangeError);
    l.settleRefused(10n);
    l.state = "closing";
    expect(() => l.reserve(1n)).toThrow(/closing/);
  });

  it("accepting raises B; a refused top reservation is given back; an unknown one never is", () => {
    const l = new ChannelLedger(id, 100n);
    const a = l.reserve(5n);
    l.attachSignature(a, sig(1));
    const b = l.reserve(5n);
    l.attachSignature(b, sig(2));
    l.settleAccepted(a);
    expect(l.accepted).toBe(5n);
    expect(l.acceptedSignature).toBe(sig(1));
    l.settleRefused(b);
    expect(l.signed).toBe(5n);
    expect(l.reserve(5n)).toBe(10n);
    l.settleUnknown(10n);
    expect(l.signed).toBe(10n);
    expect(l.reserve(5n)).toBe(15n);
  });

  it("a refused proof below one still in flight leaves the higher one in place", () => {
    const l = new ChannelLedger(id, 100n);
    const a = l.reserve(5n);
    const b = l.reserve(5n);
    l.settleRefused(a);
    expect(l.signed).toBe(b);
    expect(l.available).toBe(90n);
  });

  it("knows which balances it signed", () => {
    const l = new ChannelLedger(id, 100n);
    const a = l.reserve(5n);
    expect(l.hasSigned(a)).toBe(false);
    l.attachSignature(a, sig(3));
    expect(l.hasSigned(a)).toBe(true);
    expect(l.signatureOf(a)).toBe(sig(3));
    l.settleAccepted(a);
    expect(l.hasSigned(a)).toBe(true);
    expect(l.hasSigned(10n)).toBe(false);
  });
});

describe("ChannelLedger reconciliation and spending", () => {
  it("counts what this process signed, not a balance adopted from the server", () => {
    const l = new ChannelLedger(id, 1000n);
    l.settleAccepted(l.reserve(5n));
    expect(l.spentHere).toBe(5n);
    l.adopt(50n, sig(4));
    expect(l.accepted).toBe(50n);
    expect(l.spentHere).toBe(5n);
    l.settleAccepted(l.reserve(5n));
    expect(l.accepted).toBe(55n);
    expect(l.spentHere).toBe(10n);
  });

  it("adopting a lower balance keeps new proofs above everything signed", () => {
    const l = new ChannelLedger(id, 1000n);
    l.settleAccepted(l.reserve(30n));
    l.adopt(10n, sig(5));
    expect(l.accepted).toBe(10n);
    expect(l.reserve(5n)).toBe(35n);
  });

  it("a foreign server balance moves the spending baseline; our own does not", () => {
    const l = ChannelLedger.recovered(id, { deposit: 500n, withdrawn: 0n, settleBlock: 0, closingBalance: 0n });
    const a = l.reserve(5n);
    l.attachSignature(a, sig(6));
    l.settleRefused(a);
    l.recordServerBalance(25n, sig(7), true);
    expect(l.accepted).toBe(25n);
    expect(l.spentHere).toBe(0n);
    const b = l.reserve(5n);
    expect(b).toBe(30n);
    expect(l.spentHere).toBe(5n);
  });

  it("keeps the store's spending and funding across a restart; an older record counts nothing retroactively", () => {
    const l = ChannelLedger.recovered(id, { deposit: 500n, withdrawn: 20n, settleBlock: 0, closingBalance: 0n });
    l.funded += 300n;
    l.settleAccepted(l.reserve(5n));
    const stored = l.toStored();
    expect(stored).toMatchObject({ signed: "25", inherited: "20", funded: "300" });
    const back = ChannelLedger.fromStored(stored);
    expect([back.spentHere, back.funded]).toEqual([5n, 300n]);
    const { inherited: _i, funded: _f, ...old } = stored;
    const legacy = ChannelLedger.fromStored(old);
    expect([legacy.spentHere, legacy.funded]).toEqual([0n, 0n]);
  });

  it("after a restart, a server balance this store signed before does not lower what it spent", () => {
    const l = new ChannelLedger(id, 500n);
    l.settleAccepted(l.reserve(5n));
    l.settleUnknown(l.reserve(5n));
    const back = ChannelLedger.fromStored(l.toStored());
    expect(back.spentHere).toBe(10n);
    // The unanswered proof reached the server after all: it reports B = 10, which this process
    // holds no signature of, but the store signed it.
    back.recordServerBalance(10n, sig(9), !back.hasSigned(10n));
    expect([back.accepted, back.spentHere]).toEqual([10n, 10n]);
  });

  it("starts a recovered channel at the receiver's withdrawn balance, closing if on chain it is", () => {
    const open = ChannelLedger.recovered(id, { deposit: 500n, withdrawn: 20n, settleBlock: 0, closingBalance: 0n });
    expect([open.state, open.accepted, open.signed, open.spentHere]).toEqual(["open", 20n, 20n, 0n]);
    const closing = ChannelLedger.recovered({ ...id, openBlock: 9 }, { deposit: 500n, withdrawn: 0n, settleBlock: 600, closingBalance: 40n });
    expect([closing.state, closing.settleBlock, closing.closingBalance]).toEqual(["closing", 600, 40n]);
  });

  it("round-trips through its stored form, with what was in flight as the floor", () => {
    const l = new ChannelLedger(id, 500n);
    const a = l.reserve(5n);
    l.attachSignature(a, sig(8));
    l.settleAccepted(a);
    l.reserve(5n);
    l.applyReport({ credit: 3n, session: "tok" });
    l.gateways.add("http://x/api/1");
    const stored = l.toStored();
    expect(stored).toMatchObject({ balance: "5", signed: "10", credit: "3", session: "tok", balanceSignature: sig(8), deposit: "500" });
    const back = ChannelLedger.fromStored(stored);
    // What this store signed stays counted across processes (maxSpend.total is per store).
    expect([back.accepted, back.signed, back.credit, back.session, back.spentHere]).toEqual([5n, 10n, 3n, "tok", 10n]);
    expect(back.reserve(5n)).toBe(15n);
    expect([...back.gateways]).toEqual(["http://x/api/1"]);
  });

  it("takes a higher deposit from a report but never lowers it", () => {
    const l = new ChannelLedger(id, 500n);
    l.applyReport({ deposit: 400n });
    expect(l.deposit).toBe(500n);
    l.applyReport({ deposit: 700n });
    expect(l.deposit).toBe(700n);
  });
});

describe("ChannelLedger credit", () => {
  it("holds credit per request and needs a session token", () => {
    const l = new ChannelLedger(id, 500n);
    l.applyReport({ credit: 10n });
    expect(l.holdCredit(5n)).toBe(false);
    l.applyReport({ session: "tok" });
    expect(l.holdCredit(5n)).toBe(true);
    expect(l.holdCredit(5n)).toBe(true);
    expect(l.holdCredit(5n)).toBe(false);
    expect(l.holdCredit(5n, true)).toBe(true);
    l.releaseCredit(5n);
    l.releaseCredit(5n);
    expect(l.spendableCredit).toBe(5n);
  });

  it("lets waiting requests claim the prepaid surplus of proofs in flight", () => {
    const l = new ChannelLedger(id, 500n);
    const b = l.reserve(20n, 15n);
    expect(l.pendingSurplus).toBe(15n);
    expect(l.holdPending(5n)).toBe(true);
    expect(l.holdPending(10n)).toBe(true);
    expect(l.holdPending(5n)).toBe(false);
    l.releasePending(5n);
    expect(l.pendingSurplus).toBe(5n);
    l.settleAccepted(b);
    expect(l.pendingSurplus).toBe(0n);
    expect(() => l.reserve(5n, 5n)).toThrow(RangeError);
  });

  it("wakes waiters on a report or a refused proof, and times out otherwise", async () => {
    const l = new ChannelLedger(id, 500n);
    const woken = l.changed(5_000);
    l.applyReport({ credit: 1n });
    expect(await woken).toBe(true);
    const refused = l.changed(5_000);
    l.settleRefused(l.reserve(1n));
    expect(await refused).toBe(true);
    expect(await l.changed(1)).toBe(false);
    const session = l.waitForSession(5_000);
    l.setSession("tok");
    expect(await session).toBe(true);
    expect(await l.waitForSession(0)).toBe(true);
  });
});

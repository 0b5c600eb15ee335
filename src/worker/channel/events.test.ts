// Unit tests of the event-application rules (events.ts): each event kind, applying twice,
// learning a channel from its creation, reorg rewinds, and which proof settlement may use.
import type { Address, Hex } from "viem";
import { describe, expect, it } from "vitest";
import {
  applyChainEvent,
  applyChainEvents,
  disputePlan,
  receiverCloseProof,
  rewindChannel,
  withdrawProof,
  type AppliedEvent,
  type ChainEvent,
} from "./events.js";
import { acceptProof, chargeCredit, markCloseRequested, newChannelState, type ChannelState } from "./state.js";

const sender = "0x00000000000000000000000000000000000000aa" as Address;
const openBlock = 10;
const sig = (n: number) => `0x${n.toString(16).padStart(130, "0")}` as Hex;
let logIndex = 0;
const ev = (
  name: ChainEvent["name"],
  blockNumber: number,
  amount: bigint,
  extra: Partial<ChainEvent> = {},
): ChainEvent => {
  const li = logIndex++;
  return { id: `0xb${blockNumber}:${li}`, name, blockNumber, logIndex: li, sender, openBlock, amount, ...extra };
};

function created(deposit = 100n): { state: ChannelState; history: AppliedEvent[] } {
  const r = applyChainEvent(null, [], ev("ChannelCreated", openBlock, deposit), 1);
  return { state: r.state!, history: r.history };
}

function paid(s: ChannelState, balance: bigint, price: bigint): ChannelState {
  const d = acceptProof(s, { balance, signature: sig(Number(balance)), price, exact: false }, 2);
  if (!d.ok) throw new Error(d.code);
  return d.state;
}

describe("applyChainEvent", () => {
  it("learns an unknown channel from ChannelCreated, with no chain call", () => {
    const { state, history } = created(100n);
    expect(state).toMatchObject({
      sender,
      openBlock,
      status: "open",
      deposit: 100n,
      withdrawn: 0n,
      balance: 0n,
      charged: 0n,
    });
    expect(history).toHaveLength(1);
  });

  it("only remembers other events for a channel it has not met", () => {
    const r = applyChainEvent(null, [], ev("ChannelToppedUp", 12, 5n), 1);
    expect(r.state).toBeNull();
    expect(r.applied).toBe(true);
    expect(r.history.map((h) => h.name)).toEqual(["ChannelToppedUp"]);
  });

  it("adds top-ups to the created deposit and never lowers a deposit read from the chain", () => {
    const c = created(100n);
    const t1 = applyChainEvent(c.state, c.history, ev("ChannelToppedUp", 12, 50n), 3);
    expect(t1.state!.deposit).toBe(150n);
    const t2 = applyChainEvent(t1.state, t1.history, ev("ChannelToppedUp", 13, 25n), 4);
    expect(t2.state!.deposit).toBe(175n);
    // An object that learned the channel lazily at a later block already knows 175 + 25.
    const lazy = { ...c.state, deposit: 200n };
    const t3 = applyChainEvents(lazy, c.history, [ev("ChannelToppedUp", 12, 50n)], 5);
    expect(t3.state!.deposit).toBe(200n);
  });

  it("applies an event once: the same id again changes nothing", () => {
    const c = created(100n);
    const topUp = ev("ChannelToppedUp", 12, 50n);
    const once = applyChainEvent(c.state, c.history, topUp, 3);
    const twice = applyChainEvent(once.state, once.history, topUp, 4);
    expect(twice.applied).toBe(false);
    expect(twice.state).toBe(once.state);
    expect(twice.history).toEqual(once.history);
  });

  it("takes the cumulative withdrawn balance, and never goes back", () => {
    const c = created(100n);
    const w = applyChainEvents(c.state, c.history, [ev("ChannelWithdraw", 14, 30n), ev("ChannelWithdraw", 15, 20n)], 3);
    expect(w.state!.withdrawn).toBe(30n);
    expect(w.applied).toBe(2);
  });

  it("marks a close request closing with its balance and settle block, refused by the rules", () => {
    const c = created(100n);
    const r = applyChainEvent(c.state, c.history, ev("ChannelCloseRequested", 20, 7n, { settleBlock: 520 }), 3);
    expect(r.state).toMatchObject({ status: "closing", closingBalance: 7n, settleBlock: 520 });
    const d = acceptProof(r.state!, { balance: 10n, signature: sig(10), price: 5n, exact: false }, 4);
    expect(d).toEqual({ ok: false, code: "channel_closing" });
  });

  it("marks a settlement settled, paid up to the settled balance", () => {
    const c = created(100n);
    const r = applyChainEvent(c.state, c.history, ev("ChannelSettled", 21, 15n, { receiverTokens: 15n }), 3);
    expect(r.state).toMatchObject({ status: "settled", closingBalance: 15n, withdrawn: 15n });
    expect(chargeCredit(r.state!, { price: 1n }, 4)).toEqual({ ok: false, code: "channel_closing" });
  });

  it("refuses an event addressed to another channel's object", () => {
    const c = created(100n);
    const other = { ...ev("ChannelToppedUp", 12, 1n), openBlock: 11 };
    expect(() => applyChainEvent(c.state, c.history, other, 3)).toThrow(/object of/);
  });

  it("applies a batch in chain order whatever order it comes in", () => {
    const c = created(100n);
    const later = ev("ChannelWithdraw", 30, 40n);
    const earlier = ev("ChannelWithdraw", 29, 20n);
    const r = applyChainEvents(c.state, c.history, [later, earlier], 3);
    expect(r.history.map((h) => h.blockNumber)).toEqual([openBlock, 29, 30]);
  });
});

describe("rewindChannel", () => {
  it("removes a channel whose creation a reorg took away; it is no longer served", () => {
    const c = created(100n);
    const s = paid(c.state, 10n, 5n);
    const r = rewindChannel(s, c.history, [c.history[0]!.id], null, 5);
    expect(r.state!.status).toBe("removed");
    expect(r.history).toEqual([]);
    expect(acceptProof(r.state!, { balance: 20n, signature: sig(20), price: 5n, exact: false }, 6)).toEqual({
      ok: false,
      code: "nonexisting_channel",
    });
    // The off-chain record stays: the sender's signatures are still what they are.
    expect(r.state!.balance).toBe(10n);
  });

  it("takes the chain's word at the ancestor for a removed top-up or close", () => {
    const c = created(100n);
    const t = applyChainEvents(
      c.state,
      c.history,
      [ev("ChannelToppedUp", 12, 50n), ev("ChannelCloseRequested", 13, 0n, { settleBlock: 600 })],
      3,
    );
    const removed = t.history.slice(1).map((h) => h.id);
    const r = rewindChannel(
      t.state,
      t.history,
      removed,
      { deposit: 100n, withdrawn: 0n, settleBlock: 0, closingBalance: 0n },
      4,
    );
    expect(r.state).toMatchObject({ status: "open", deposit: 100n, closingBalance: null, settleBlock: null });
    expect(r.history).toHaveLength(1);
  });

  it("keeps a channel settled when its settlement is still on the chain", () => {
    const c = created(100n);
    const t = applyChainEvents(c.state, c.history, [ev("ChannelSettled", 12, 10n), ev("ChannelToppedUp", 13, 1n)], 3);
    const r = rewindChannel(t.state, t.history, [t.history[2]!.id], null, 4);
    expect(r.state!.status).toBe("settled");
  });

  it("revives a removed channel when its creation is mined again", () => {
    const c = created(100n);
    const gone = rewindChannel(c.state, c.history, [c.history[0]!.id], null, 3);
    const again = applyChainEvent(gone.state, gone.history, ev("ChannelCreated", openBlock, 100n), 4);
    expect(again.state).toMatchObject({ status: "open", deposit: 100n });
  });
});

describe("settlement proofs", () => {
  it("withdraws the newest proof not above C, so credit stays refundable", () => {
    let s = created(100n).state;
    s = paid(s, 10n, 5n); // B 10, C 5: the proof for 10 is above C
    expect(withdrawProof(s)).toBeNull();
    s = paid(s, 20n, 10n); // B 20, C 15: the proof for 10 is <= C
    expect(withdrawProof(s)).toEqual({ balance: 10n, signature: sig(10) });
    expect(withdrawProof({ ...s, withdrawn: 10n })).toBeNull();
    expect(withdrawProof({ ...s, status: "closing" })).toBeNull();
  });

  it("disputes a close claiming less than C, at B", () => {
    let s = created(100n).state;
    s = paid(s, 5n, 5n);
    s = paid(s, 10n, 5n);
    s = paid(s, 15n, 5n);
    const closing = applyChainEvent(s, [], ev("ChannelCloseRequested", 20, 0n, { settleBlock: 520 }), 3).state!;
    expect(disputePlan(closing)).toEqual({
      proof: { balance: 15n, signature: sig(15) },
      closingBalance: 0n,
      settleBlock: 520,
    });
  });

  it("does not dispute an honest close at C that reclaims unspent credit", () => {
    let s = created(100n).state;
    s = paid(s, 20n, 5n); // B 20, C 5
    const atC = applyChainEvent(s, [], ev("ChannelCloseRequested", 20, 5n, { settleBlock: 520 }), 3).state!;
    expect(disputePlan(atC)).toBeNull();
    const belowC = applyChainEvent(s, [], ev("ChannelCloseRequested", 20, 4n, { settleBlock: 520 }), 3).state!;
    expect(disputePlan(belowC)?.proof.balance).toBe(20n);
    expect(disputePlan(s)).toBeNull(); // not closing
  });

  it("disputes with the highest held proof the on-chain deposit covers when a reorg took a top-up", () => {
    let s = { ...created(500n).state, deposit: 1000n }; // a top-up learned from a chain read
    s = paid(s, 400n, 10n); // B 400, C 10
    s = paid(s, 950n, 10n); // B 950, C 20: pending 400 and 950
    const onChain = { deposit: 500n, withdrawn: 0n, closingBalance: 0n, settleBlock: 520 };
    expect(disputePlan(s, onChain)).toEqual({
      proof: { balance: 400n, signature: sig(400) },
      closingBalance: 0n,
      settleBlock: 520,
    });
    // Not below what was withdrawn, and nothing when no held proof beats the claim.
    expect(disputePlan(s, { ...onChain, withdrawn: 401n })).toBeNull();
    expect(disputePlan(s, { ...onChain, deposit: 300n })).toBeNull();
    expect(disputePlan(s, { ...onChain, deposit: 2000n })?.proof.balance).toBe(950n);
    // A claim of C or more is honest, whatever the chain holds.
    expect(disputePlan(s, { ...onChain, closingBalance: 20n })).toBeNull();
    expect(disputePlan({ ...s, status: "settled" }, onChain)).toBeNull();
  });

  it("closes for the receiver at the newest proof <= C, only once the sender asked", () => {
    let s = created(100n).state;
    s = paid(s, 10n, 10n);
    s = paid(s, 30n, 5n);
    const spent = chargeCredit(s, { price: 3n }, 3);
    if (!spent.ok) throw new Error(spent.code);
    s = spent.state;
    // B 30, C 18: the newest proof <= 18 is 10.
    expect(s.charged).toBe(18n);
    expect(receiverCloseProof(s)).toBeNull();
    const asked = markCloseRequested(s, 4);
    expect(receiverCloseProof(asked)).toEqual({ balance: 10n, signature: sig(10) });
    expect(
      receiverCloseProof(
        newChannelState(sender, openBlock, { deposit: 1n, withdrawn: 0n, settleBlock: 0, closingBalance: 0n }, 1),
      ),
    ).toBeNull();
  });
});

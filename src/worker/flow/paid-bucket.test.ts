// A payer's bucket inside the channel rules (channel/state.ts): checked before any payment rule,
// charged in the same decision as the payment, and a 429 changes no payment state.
import { describe, expect, it } from "vitest";
import type { Address, Hex } from "viem";
import { acceptProof, chargeCapacity, chargeCredit, markCloseRequested, newChannelState, type ChannelState } from "../channel/state.js";

const sender = "0x00000000000000000000000000000000000000aa" as Address;
const sig = (n: number) => `0x${n.toString(16).padStart(130, "0")}` as Hex;
const T0 = 1_700_000_000_000;
const flow = { capacity: 1, cost: 2, random: 0.5 }; // a buffer of 6 units: three requests

function open(deposit = 1000n): ChannelState {
  return newChannelState(sender, 7, { deposit, withdrawn: 0n, settleBlock: 0, closingBalance: 0n }, T0);
}

const paymentFields = (s: ChannelState) => {
  const { flow: _f, version: _v, updatedAt: _u, ...rest } = s;
  return rest;
};

describe("the paid bucket in the channel rules", () => {
  it("charges the bucket with the payment, and refuses with rate_limited once it is empty", () => {
    let s = open();
    for (let i = 1; i <= 3; i++) {
      const d = acceptProof(s, { balance: BigInt(5 * i), signature: sig(i), price: 5n, exact: false, flow }, T0);
      expect(d.ok).toBe(true);
      if (!d.ok) return;
      expect(d.state.flow?.level).toBe(6 - 2 * i);
      expect(d.flow).toMatchObject({ capacity: 1, buffer: 6, remaining: 6 - 2 * i });
      s = d.state;
    }
    const limited = acceptProof(s, { balance: 20n, signature: sig(4), price: 5n, exact: false, flow }, T0);
    expect(limited).toMatchObject({ ok: false, code: "rate_limited", retryAfterMs: 2000 });
    if (limited.ok) return;
    expect(limited.bucket?.refused).toBe(1);
    // Once the buffer holds the cost again, the same proof is accepted.
    const later = acceptProof({ ...s, flow: limited.bucket }, { balance: 20n, signature: sig(4), price: 5n, exact: false, flow }, T0 + 2000);
    expect(later.ok).toBe(true);
  });

  it("a 429 leaves every payment field as it was, for a proof and for credit", () => {
    const s0 = open();
    const d = acceptProof(s0, { balance: 100n, signature: sig(1), price: 5n, exact: false, flow: { ...flow, cost: 6 } }, T0);
    if (!d.ok) throw new Error("first payment refused");
    const s = d.state;
    const proof = acceptProof(s, { balance: 200n, signature: sig(2), price: 5n, exact: false, flow }, T0);
    const spend = chargeCredit(s, { price: 5n, reserveId: "r1", flow }, T0);
    for (const r of [proof, spend]) {
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.code).toBe("rate_limited");
    }
    expect(paymentFields(s)).toEqual(paymentFields(d.state));
    expect(s.charged).toBe(5n);
    expect(s.balance).toBe(100n);
    expect(s.reservations).toEqual({});
  });

  it("a payment refusal costs the bucket nothing", () => {
    const s = open(10n);
    const over = acceptProof(s, { balance: 11n, signature: sig(1), price: 5n, exact: false, flow }, T0);
    expect(over).toMatchObject({ ok: false, code: "insufficient_deposit", flow: { remaining: 6 } });
    const short = chargeCredit(s, { price: 5n, flow }, T0);
    expect(short).toMatchObject({ ok: false, code: "insufficient_credit", flow: { remaining: 6 } });
    expect(s.flow).toBeUndefined();
  });

  it("without a flow charge the rules are unchanged (flow control off)", () => {
    const d = acceptProof(open(), { balance: 5n, signature: sig(1), price: 5n, exact: true }, T0);
    expect(d.ok && d.state.flow).toBeUndefined();
    expect(d.ok && d.flow).toBeUndefined();
  });

  it("a payer's free request takes capacity from its bucket and changes nothing else; a closed channel is no payer", () => {
    const s = open();
    let state = s;
    for (let i = 1; i <= 3; i++) {
      const d = chargeCapacity(state, flow, T0);
      if (!d.ok) throw new Error(d.code);
      expect(d.cost).toBe(0n);
      expect(d.state.flow?.level).toBe(6 - 2 * i);
      expect({ ...d.state, flow: undefined }).toEqual({ ...s, flow: undefined });
      state = d.state;
    }
    expect(chargeCapacity(state, flow, T0)).toMatchObject({ ok: false, code: "rate_limited" });
    expect(chargeCapacity(markCloseRequested(s, T0), flow, T0)).toMatchObject({ ok: false, code: "channel_closing" });
  });
});

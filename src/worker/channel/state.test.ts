import { describe, expect, it } from "vitest";
import type { Hex } from "viem";
import {
  acceptProof,
  chargeCredit,
  credit,
  DEFAULT_MAX_SERVING_MS,
  expireReservations,
  extendReservation,
  markCloseRequested,
  meteredCharge,
  MAX_PENDING_PROOFS,
  newChannelState,
  nextReservationExpiry,
  RESERVATION_MARGIN_MS,
  settledCharge,
  settleReservation,
  withDeposit,
  type ChannelState,
} from "./state.js";

const sender = "0x00000000000000000000000000000000000000aa" as const;
const sig = (n: number) => `0x${n.toString(16).padStart(130, "0")}` as Hex;

function open(deposit = 100n, withdrawn = 0n): ChannelState {
  return newChannelState(sender, 7, { deposit, withdrawn, settleBlock: 0, closingBalance: 0n }, 1);
}

function accepted(s: ChannelState, balance: bigint, price: bigint, exact = false) {
  const d = acceptProof(s, { balance, signature: sig(Number(balance)), price, exact }, 2);
  if (!d.ok) throw new Error(`refused: ${d.code}`);
  return d.state;
}

describe("acceptProof", () => {
  it("accepts an exact payment: B and C move together, the proof is withdrawable", () => {
    const s = accepted(open(), 5n, 5n);
    expect([s.balance, s.charged, credit(s)]).toEqual([5n, 5n, 0n]);
    expect(s.withdrawable?.balance).toBe(5n);
    expect(s.pending).toEqual([]);
  });

  it("keeps an overpayment as credit and its proof pending until C reaches it", () => {
    const s = accepted(open(), 20n, 5n);
    expect([s.balance, s.charged, credit(s)]).toEqual([20n, 5n, 15n]);
    expect(s.withdrawable).toBeNull();
    expect(s.pending.map((p) => p.balance)).toEqual([20n]);
    let t = s;
    for (let i = 0; i < 3; i++) {
      const d = chargeCredit(t, { price: 5n }, 3);
      if (!d.ok) throw new Error(d.code);
      t = d.state;
    }
    expect(t.charged).toBe(20n);
    expect(t.withdrawable?.balance).toBe(20n);
    expect(chargeCredit(t, { price: 1n }, 4)).toEqual({ ok: false, code: "insufficient_credit" });
  });

  it("keeps when the last payment was accepted: a proof's time, then a charge on credit's", () => {
    expect(open().lastPaymentAt).toBeUndefined();
    const s = accepted(open(), 20n, 5n);
    expect(s.lastPaymentAt).toBe(2);
    const d = chargeCredit(s, { price: 5n }, 9);
    expect(d.ok && d.state.lastPaymentAt).toBe(9);
    const refused = acceptProof(s, { balance: 20n, signature: sig(20), price: 5n, exact: false }, 11);
    expect(refused.ok).toBe(false);
    expect(s.lastPaymentAt).toBe(2);
  });

  it("refuses in the protocol's order and never changes the state", () => {
    const s = accepted(open(100n), 10n, 5n);
    const before = structuredClone(s);
    const refuse = (balance: bigint, price: bigint, exact = false) =>
      acceptProof(s, { balance, signature: sig(1), price, exact }, 9);
    expect(refuse(101n, 5n)).toEqual({ ok: false, code: "insufficient_deposit" });
    expect(refuse(10n, 5n)).toEqual({ ok: false, code: "invalid_amount" }); // replay
    expect(refuse(9n, 0n)).toEqual({ ok: false, code: "invalid_amount" }); // older
    // C = 5, credit 5: a balance of 11 gives N - C = 6 >= 5, accepted; 9 would not be > B.
    expect(acceptProof(s, { balance: 11n, signature: sig(1), price: 7n, exact: false }, 9)).toEqual({
      ok: false,
      code: "invalid_amount",
    });
    expect(refuse(12n, 5n, true)).toEqual({ ok: false, code: "invalid_amount" }); // no-credit mode: N - B must be p
    expect(s).toEqual(before);
  });

  it("counts credit toward the next proof: N - C >= p", () => {
    const s = accepted(open(), 20n, 5n); // C=5, B=20
    const t = accepted(s, 21n, 16n); // N - C = 16
    expect([t.balance, t.charged]).toEqual([21n, 21n]);
  });

  it("refuses a closing or close-requested channel first", () => {
    const closing = newChannelState(
      sender,
      7,
      { deposit: 100n, withdrawn: 0n, settleBlock: 900, closingBalance: 3n },
      1,
    );
    expect(acceptProof(closing, { balance: 500n, signature: sig(1), price: 5n, exact: false }, 2)).toEqual({
      ok: false,
      code: "channel_closing",
    });
    const requested = markCloseRequested(open(), 2);
    expect(chargeCredit(requested, { price: 0n }, 3)).toEqual({ ok: false, code: "channel_closing" });
    expect(
      acceptProof({ ...open(), status: "removed" }, { balance: 5n, signature: sig(1), price: 5n, exact: false }, 2),
    ).toEqual({
      ok: false,
      code: "nonexisting_channel",
    });
  });

  it("starts from what was already withdrawn on chain", () => {
    const s = open(100n, 30n);
    expect([s.balance, s.charged]).toEqual([30n, 30n]);
    expect(acceptProof(s, { balance: 30n, signature: sig(1), price: 0n, exact: false }, 2)).toEqual({
      ok: false,
      code: "invalid_amount",
    });
    expect(accepted(s, 35n, 5n).charged).toBe(35n);
  });

  it("bounds the pending proofs", () => {
    let s = open(10_000n);
    for (let i = 1; i <= MAX_PENDING_PROOFS + 5; i++) s = accepted(s, BigInt(i * 10), 1n);
    expect(s.pending.length).toBe(MAX_PENDING_PROOFS);
  });
});

describe("metered reservations", () => {
  it("reserves the maximum, charges the measured cost, frees the rest", () => {
    const s = accepted(open(), 100n, 0n);
    const r = chargeCredit(s, { price: 40n, reserveId: "r1" }, 2);
    if (!r.ok) throw new Error(r.code);
    expect(credit(r.state)).toBe(60n);
    expect(settledCharge(r.state)).toBe(0n);
    const done = settleReservation(r.state, "r1", 15n, 3);
    if (!done.ok) throw new Error(done.code);
    expect(done.cost).toBe(15n);
    expect(credit(done.state)).toBe(85n);
    expect(done.state.reservations).toEqual({});
  });

  it("never charges above the reserved maximum, and an unknown id changes nothing", () => {
    const s = accepted(open(), 100n, 0n);
    const r = chargeCredit(s, { price: 40n, reserveId: "r1" }, 2);
    if (!r.ok) throw new Error(r.code);
    const done = settleReservation(r.state, "r1", 1000n, 3);
    expect(done.ok && done.cost).toBe(40n);
    const same = settleReservation(r.state, "nope", 5n, 3);
    expect(same.ok && same.state).toBe(r.state);
  });

  it("does not make a proof withdrawable on a reservation alone", () => {
    const s = accepted(open(), 10n, 0n); // B=10, C=0
    const r = acceptProof(s, { balance: 50n, signature: sig(50), price: 50n, exact: false, reserveId: "m" }, 2);
    if (!r.ok) throw new Error(r.code);
    expect(r.state.withdrawable).toBeNull();
    const done = settleReservation(r.state, "m", 10n, 3);
    if (!done.ok) throw new Error(done.code);
    expect(done.state.charged).toBe(10n);
    expect(done.state.withdrawable?.balance).toBe(10n);
  });

  it("expires a reservation its serving time plus the margin after it was taken, charged at its maximum", () => {
    const s = accepted(open(), 10n, 0n);
    const r = acceptProof(
      s,
      { balance: 50n, signature: sig(50), price: 50n, exact: false, reserveId: "m", reserveMs: 1_000 },
      2,
    );
    if (!r.ok) throw new Error(r.code);
    const expiresAt = 2 + 1_000 + RESERVATION_MARGIN_MS;
    expect(r.state.reservations).toEqual({ m: { amount: 50n, expiresAt } });
    expect(nextReservationExpiry(r.state)).toBe(expiresAt);
    expect(expireReservations(r.state, expiresAt - 1)).toBe(r.state);
    const expired = expireReservations(r.state, expiresAt);
    expect(expired.reservations).toEqual({});
    expect(expired.charged).toBe(50n);
    expect(settledCharge(expired)).toBe(50n);
    expect(expired.withdrawable?.balance).toBe(50n);
    expect(nextReservationExpiry(expired)).toBeNull();
    // A settle that comes after the expiry changes nothing: the maximum stays charged.
    const late = settleReservation(expired, "m", 5n, expiresAt + 1);
    expect(late.ok && late.state).toBe(expired);
    // Without a stated serving time, the default one.
    const d = chargeCredit(accepted(open(), 100n, 0n), { price: 40n, reserveId: "d" }, 7);
    expect(d.ok && d.state.reservations.d!.expiresAt).toBe(7 + DEFAULT_MAX_SERVING_MS + RESERVATION_MARGIN_MS);
  });
});

describe("extendReservation", () => {
  const reserved = () => {
    const r = chargeCredit(accepted(open(), 100n, 0n), { price: 20n, reserveId: "s", reserveMs: 1_000 }, 2);
    if (!r.ok) throw new Error(r.code);
    return r.state; // B = 100, C = 20 (all reserved), credit 80
  };

  it("adds the next slice from credit and renews the expiry", () => {
    const r = extendReservation(reserved(), "s", { amount: 20n, atLeast: 2n, servingMs: 1_000 }, 50);
    if (!r.ok) throw new Error(r.code);
    expect(r.cost).toBe(20n);
    expect(r.state.reservations.s).toEqual({ amount: 40n, expiresAt: 50 + 1_000 + RESERVATION_MARGIN_MS });
    expect(credit(r.state)).toBe(60n);
    const done = settleReservation(r.state, "s", 26n, 60);
    expect(done.ok && credit(done.state)).toBe(74n);
  });

  it("takes what credit is left when it is less than the slice, never less than atLeast", () => {
    let s = reserved();
    const most = extendReservation(s, "s", { amount: 70n, atLeast: 2n }, 3);
    if (!most.ok) throw new Error(most.code);
    s = most.state; // credit 10
    const rest = extendReservation(s, "s", { amount: 20n, atLeast: 2n }, 4);
    expect(rest.ok && rest.cost).toBe(10n);
    const short = extendReservation(s, "s", { amount: 20n, atLeast: 11n }, 4);
    expect(short).toEqual({ ok: false, code: "insufficient_credit" });
  });

  it("only renews with amounts 0, even on a channel that no longer serves; refuses an unknown reservation", () => {
    const s = { ...reserved(), closeRequested: true };
    const renewed = extendReservation(s, "s", { amount: 0n, atLeast: 0n, servingMs: 500 }, 9);
    expect(renewed.ok && renewed.state.reservations.s).toEqual({
      amount: 20n,
      expiresAt: 9 + 500 + RESERVATION_MARGIN_MS,
    });
    expect(extendReservation(s, "s", { amount: 20n, atLeast: 2n }, 9)).toEqual({ ok: false, code: "channel_closing" });
    expect(extendReservation(s, "gone", { amount: 0n, atLeast: 0n }, 9)).toEqual({
      ok: false,
      code: "payment_required",
    });
  });
});

describe("withDeposit", () => {
  it("takes the deposit read from the chain, lower too (a reorg took a top-up), and remembers the read's block", () => {
    const s = open(100n);
    expect(withDeposit(s, 100n, 2, 40)).toBe(s);
    expect(withDeposit(s, 150n, 2).deposit).toBe(150n);
    expect(withDeposit(s, 90n, 2, 40)).toMatchObject({ deposit: 90n, readBlock: 40 });
  });
});

describe("credit above the deposit", () => {
  it("spends no credit past the deposit when a reorg took a top-up away (B > D): C stays <= D", () => {
    // B 200 paid on a deposit of 200 (a top-up of 100 the paywall had seen), C 5.
    let s = accepted(open(200n), 200n, 5n);
    s = withDeposit(s, 100n, 3, 50); // the reorg took the top-up: D 100 < B
    let served = 0;
    for (;;) {
      const d = chargeCredit(s, { price: 5n }, 4);
      if (!d.ok) {
        expect(d.code).toBe("insufficient_credit");
        break;
      }
      s = d.state;
      served++;
    }
    expect(s.charged).toBe(100n);
    expect(served).toBe(19);
    expect(chargeCredit(s, { price: 0n, reserveId: "m" }, 5).ok).toBe(true);
    expect(chargeCredit(s, { price: 1n, reserveId: "m" }, 5)).toMatchObject({ ok: false, code: "insufficient_credit" });
  });

  it("a metered stream's next slices stop at the deposit when a reorg took a top-up away (B > D)", () => {
    // A stream holds 20 of a channel paid to B 200 on a deposit of 200; the reorg takes D to 100.
    let s = accepted(open(200n), 200n, 5n);
    const r = chargeCredit(s, { price: 20n, reserveId: "st", reserveMs: 1_000 }, 2);
    if (!r.ok) throw new Error(r.code);
    s = withDeposit(r.state, 100n, 3, 50);
    const most = extendReservation(s, "st", { amount: 200n, atLeast: 1n }, 4);
    if (!most.ok) throw new Error(most.code);
    expect(most.cost).toBe(75n);
    expect(most.state.charged).toBe(100n);
    expect(extendReservation(most.state, "st", { amount: 20n, atLeast: 1n }, 5)).toEqual({
      ok: false,
      code: "insufficient_credit",
    });
  });
});

describe("meteredCharge", () => {
  it("is the measured cost, never below 0 nor above the reservation", () => {
    expect(meteredCharge(15n, 40n)).toBe(15n);
    expect(meteredCharge(40n, 40n)).toBe(40n);
    expect(meteredCharge(1000n, 40n)).toBe(40n);
    expect(meteredCharge(-5n, 40n)).toBe(0n);
  });
});

import { describe, expect, it } from "vitest";
import { Edge402Error } from "./errors.js";
import {
  checkDeposit,
  checkPrice,
  chooseChannel,
  chooseTopUp,
  newChannelDeposit,
  paymentIncrement,
  refusalAction,
  resolvePolicy,
  retryDelay,
  topUpAmount,
} from "./policy.js";

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof Edge402Error) return e.code;
    throw e;
  }
  return undefined;
}

describe("resolvePolicy", () => {
  it("fills the defaults", () => {
    const p = resolvePolicy({});
    expect(p).toMatchObject({ depositMultiple: 100n, minimumDeposit: 0n, topUp: undefined, prepay: undefined, limits: {} });
    expect(resolvePolicy({ prepay: true }).prepay).toEqual({ multiple: 10n, amount: undefined });
    expect(resolvePolicy({ prepay: false }).prepay).toBeUndefined();
  });

  it("refuses multiples that are not positive integers and negative amounts", () => {
    expect(code(() => resolvePolicy({ deposit: { multiple: 0 } }))).toBe("invalid_argument");
    expect(code(() => resolvePolicy({ deposit: { multiple: 1.5 } }))).toBe("invalid_argument");
    expect(code(() => resolvePolicy({ prepay: { multiple: -1n } }))).toBe("invalid_argument");
    expect(code(() => resolvePolicy({ maxSpend: { total: -1n } }))).toBe("invalid_argument");
  });
});

describe("budget", () => {
  it("refuses a price over the per-request limit before anything is signed", () => {
    const p = resolvePolicy({ maxSpend: { perRequest: 3n } });
    expect(code(() => checkPrice(5n, p))).toBe("budget_exceeded");
    expect(code(() => paymentIncrement(5n, 0n, p))).toBe("budget_exceeded");
    expect(paymentIncrement(3n, 0n, p)).toBe(3n);
  });

  it("refuses a payment that would take the total over the limit", () => {
    const p = resolvePolicy({ maxSpend: { total: 12n } });
    expect(paymentIncrement(5n, 5n, p)).toBe(5n);
    expect(code(() => paymentIncrement(5n, 10n, p))).toBe("budget_exceeded");
  });

  it("prepays a multiple of the price, or a fixed amount, trimmed to the total budget", () => {
    expect(paymentIncrement(5n, 0n, resolvePolicy({ prepay: { multiple: 4 } }))).toBe(20n);
    expect(paymentIncrement(5n, 0n, resolvePolicy({ prepay: { amount: 12n } }))).toBe(12n);
    expect(paymentIncrement(5n, 0n, resolvePolicy({ prepay: { amount: 2n } }))).toBe(5n);
    expect(paymentIncrement(5n, 30n, resolvePolicy({ prepay: { multiple: 4 }, maxSpend: { total: 42n } }))).toBe(12n);
  });
});

describe("deposit budget", () => {
  it("defaults to what one channel gets at the highest allowed price, and to no limit without perRequest", () => {
    expect(resolvePolicy({ maxSpend: { perRequest: 3n } }).maxDeposit).toBe(300n);
    expect(resolvePolicy({ maxSpend: { perRequest: 3n }, deposit: { multiple: 10, minimum: 50n } }).maxDeposit).toBe(50n);
    expect(resolvePolicy({ maxSpend: { perRequest: 3n }, maxDeposit: 7n }).maxDeposit).toBe(7n);
    expect(resolvePolicy({ maxSpend: { total: 3n } }).maxDeposit).toBeUndefined();
    expect(code(() => resolvePolicy({ maxDeposit: -1n }))).toBe("invalid_argument");
  });

  it("refuses a deposit that would take what the store deposited over the budget", () => {
    const p = resolvePolicy({ maxSpend: { perRequest: 3n } });
    expect(() => checkDeposit(300n, 0n, p)).not.toThrow();
    expect(code(() => checkDeposit(1n, 300n, p))).toBe("budget_exceeded");
    expect(() => checkDeposit(10n ** 30n, 0n, resolvePolicy({}))).not.toThrow();
  });
});

describe("deposits", () => {
  it("opens with a multiple of the price, at least the minimum and the amount", () => {
    expect(newChannelDeposit(5n, 5n, resolvePolicy({}))).toBe(500n);
    expect(newChannelDeposit(5n, 5n, resolvePolicy({ deposit: { multiple: 2, minimum: 1000n } }))).toBe(1000n);
    expect(newChannelDeposit(5n, 800n, resolvePolicy({ deposit: { multiple: 2 } }))).toBe(800n);
  });

  it("tops up by the configured amount, or a new channel's deposit, never less than the shortfall", () => {
    expect(topUpAmount(5n, 3n, resolvePolicy({}))).toBe(500n);
    expect(topUpAmount(5n, 3n, resolvePolicy({ deposit: { topUp: 50n } }))).toBe(50n);
    expect(topUpAmount(5n, 70n, resolvePolicy({ deposit: { topUp: 50n } }))).toBe(70n);
  });
});

describe("channel choice", () => {
  const chans = [
    { openBlock: 1, state: "open", available: 100n },
    { openBlock: 2, state: "open", available: 10n },
    { openBlock: 3, state: "closing", available: 7n },
    { openBlock: 4, state: "open", available: 10n },
    { openBlock: 5, state: "open", available: 3n },
  ];

  it("pays from the smallest open channel that covers the amount, oldest on a tie", () => {
    expect(chooseChannel(chans, 5n)?.openBlock).toBe(2);
    expect(chooseChannel(chans, 11n)?.openBlock).toBe(1);
    expect(chooseChannel(chans, 101n)).toBeUndefined();
    expect(chooseChannel(chans, 3n)?.openBlock).toBe(5);
  });

  it("tops up the open channel that covers the most", () => {
    expect(chooseTopUp(chans)?.openBlock).toBe(1);
    expect(chooseTopUp(chans.filter((c) => c.openBlock !== 1))?.openBlock).toBe(4);
    expect(chooseTopUp([{ openBlock: 3, state: "closing", available: 7n }])).toBeUndefined();
  });
});

describe("retries", () => {
  it("backs off exponentially within ±25%, capped", () => {
    const opts = { baseMs: 100, maxMs: 1000 };
    expect(retryDelay(0, opts, () => 0)).toBe(75);
    expect(retryDelay(0, opts, () => 1)).toBe(125);
    expect(retryDelay(3, opts, () => 0.5)).toBe(800);
    expect(retryDelay(10, opts, () => 0.5)).toBe(1000);
  });

  it("maps each refusal to what the client does next", () => {
    expect(refusalAction("payment_required")).toBe("pay");
    expect(refusalAction("invalid_amount")).toBe("reconcile");
    expect(refusalAction("insufficient_confirmations")).toBe("wait");
    expect(refusalAction("insufficient_deposit")).toBe("check_deposit");
    expect(refusalAction("nonexisting_channel")).toBe("check_channel");
    expect(refusalAction("channel_closing")).toBe("switch_channel");
    expect(refusalAction("insufficient_credit")).toBe("drop_session");
    expect(refusalAction("invalid_session")).toBe("drop_session");
    expect(refusalAction("invalid_balance_proof")).toBe("fail");
    expect(refusalAction(undefined)).toBe("fail");
  });
});

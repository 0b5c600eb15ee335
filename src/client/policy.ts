// The client's spending policy as pure functions (deposit and top-up sizes, how much one proof
// signs, the budgets, which channel pays, the backoff, what a refusal asks for), kept apart
// from the I/O so each rule can be tested alone and read in one place; payer.ts applies them.
import type { ErrorCode } from "../protocol/errors.js";
import { ClientErrorCodes, Edge402Error } from "./errors.js";

/** How channels are funded. */
export type DepositPolicy = {
  /** A new channel's deposit as a multiple of the price that opens it (default 100). */
  multiple?: number | bigint;
  /** A new channel gets at least this much (default 0). */
  minimum?: bigint;
  /** What a top-up adds (default: what a new channel would get); always at least the shortfall. */
  topUp?: bigint;
};

/** Signing ahead: each proof pays for several requests, later ones spend the credit by session. */
export type PrepayPolicy = {
  /** Sign for `multiple` times the price at once (default 10). */
  multiple?: number | bigint;
  /** Or a fixed amount per proof (at least the price); wins over `multiple`. */
  amount?: bigint;
};

/** Budget limits in token base units. */
export type SpendLimits = {
  /** The highest price one request may cost. */
  perRequest?: bigint;
  /** The most this client may sign away in total (new proof increments, prepaid credit
   * included), counted per channel store: every client sharing the store counts. */
  total?: bigint;
};

export type ResolvedPolicy = {
  depositMultiple: bigint;
  minimumDeposit: bigint;
  topUp: bigint | undefined;
  prepay: { multiple: bigint; amount: bigint | undefined } | undefined;
  limits: SpendLimits;
  /** The most this store may deposit in total (opens and top-ups); undefined: no limit. */
  maxDeposit: bigint | undefined;
};

/** A new channel's deposit as a multiple of the price that opens it, unless `deposit.multiple` says otherwise. */
export const DEFAULT_DEPOSIT_MULTIPLE = 100n;
/** With `prepay: true`, how many prices one proof signs for. */
export const DEFAULT_PREPAY_MULTIPLE = 10n;

function toMultiple(v: number | bigint | undefined, fallback: bigint, name: string): bigint {
  if (v === undefined) return fallback;
  if (typeof v === "number" && (!Number.isSafeInteger(v) || v < 1)) {
    throw new Edge402Error(ClientErrorCodes.invalidArgument, `${name} must be a positive integer, got ${v}`);
  }
  const n = BigInt(v);
  if (n < 1n) throw new Edge402Error(ClientErrorCodes.invalidArgument, `${name} must be a positive integer, got ${v}`);
  return n;
}

function nonNegative(v: bigint | undefined, name: string): bigint | undefined {
  if (v !== undefined && (typeof v !== "bigint" || v < 0n)) {
    throw new Edge402Error(ClientErrorCodes.invalidArgument, `${name} must be a non-negative bigint`);
  }
  return v;
}

/** The spending policy and budgets, as `createEdge402Client` takes them. */
export type PolicyOptions = {
  /** New channel deposit (a multiple of the price, default 100) and top-up amount. */
  deposit?: DepositPolicy;
  /** Sign ahead for credit and spend it through the session token (`true` = 10 prices per proof). */
  prepay?: PrepayPolicy | boolean;
  /** Budget: the highest price per request, the most signed in total (per store). */
  maxSpend?: SpendLimits;
  /**
   * Deposit budget: the most this store deposits in total, opens and top-ups (default
   * `max(deposit.multiple × maxSpend.perRequest, deposit.minimum)`; no limit without
   * `maxSpend.perRequest`). Refunds do not give it back.
   */
  maxDeposit?: bigint;
};

/**
 * Checks the spending policy and fills in its defaults: what the client applies to every
 * payment and deposit. `createEdge402Client` calls it; call it yourself to validate
 * options early or to see the effective budgets.
 *
 * @param opts - The policy options of `createEdge402Client`.
 * @returns The policy with every default filled in (`maxDeposit` undefined: no deposit limit).
 * @throws {Edge402Error} `invalid_argument` for a multiple that is not a positive integer or an
 * amount that is not a non-negative bigint.
 *
 * @example
 * const policy = resolvePolicy({ maxSpend: { perRequest: 10n } });
 * policy.maxDeposit; // 1000n: 100 × the highest price allowed
 */
export function resolvePolicy(opts: PolicyOptions): ResolvedPolicy {
  const prepay = opts.prepay === true ? {} : opts.prepay === false ? undefined : opts.prepay;
  const depositMultiple = toMultiple(opts.deposit?.multiple, DEFAULT_DEPOSIT_MULTIPLE, "deposit.multiple");
  const minimumDeposit = nonNegative(opts.deposit?.minimum, "deposit.minimum") ?? 0n;
  const perRequest = nonNegative(opts.maxSpend?.perRequest, "maxSpend.perRequest");
  return {
    depositMultiple,
    minimumDeposit,
    topUp: nonNegative(opts.deposit?.topUp, "deposit.topUp"),
    prepay: prepay
      ? {
          multiple: toMultiple(prepay.multiple, DEFAULT_PREPAY_MULTIPLE, "prepay.multiple"),
          amount: nonNegative(prepay.amount, "prepay.amount"),
        }
      : undefined,
    limits: {
      perRequest,
      total: nonNegative(opts.maxSpend?.total, "maxSpend.total"),
    },
    maxDeposit:
      nonNegative(opts.maxDeposit, "maxDeposit") ?? defaultMaxDeposit(perRequest, depositMultiple, minimumDeposit),
  };
}

/**
 * `maxDeposit` when it is not given: what one new channel gets at the highest price
 * `maxSpend.perRequest` lets through, `max(deposit.multiple × perRequest, deposit.minimum)`.
 * Without `perRequest` there is no deposit budget: each deposit is only what the deposit
 * policy asks for, the `beforePay` hook sees it (`funding`) and may decline, and only a
 * trusted contract gets it.
 */
export function defaultMaxDeposit(
  perRequest: bigint | undefined,
  multiple: bigint,
  minimum: bigint,
): bigint | undefined {
  if (perRequest === undefined) return undefined;
  const byPrice = perRequest * multiple;
  return byPrice > minimum ? byPrice : minimum;
}

/** Throws `budget_exceeded` when depositing `amount` more would take this store over `maxDeposit`. */
export function checkDeposit(amount: bigint, deposited: bigint, policy: Pick<ResolvedPolicy, "maxDeposit">): void {
  const limit = policy.maxDeposit;
  if (limit !== undefined && deposited + amount > limit) {
    throw new Edge402Error(
      ClientErrorCodes.budgetExceeded,
      `Depositing ${amount} would bring the total deposited to ${deposited + amount}, over the deposit budget of ${limit}; nothing was deposited.`,
      { details: { deposit: amount.toString(), deposited: deposited.toString(), maxDeposit: limit.toString() } },
    );
  }
}

const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);

/**
 * How much one new proof signs for a request of `price`: the price, or with prepay the prepaid
 * amount, trimmed to what the total budget leaves (never below the price). Throws
 * `budget_exceeded` when the price itself is over a limit. `spent` is what was signed so far.
 */
export function paymentIncrement(price: bigint, spent: bigint, policy: ResolvedPolicy): bigint {
  checkPrice(price, policy);
  checkTotal(price, spent, policy);
  const { total } = policy.limits;
  let amount = price;
  if (policy.prepay) amount = max(price, policy.prepay.amount ?? price * policy.prepay.multiple);
  if (total !== undefined && spent + amount > total) amount = max(price, total - spent);
  return amount;
}

/** Throws `budget_exceeded` when signing `amount` more would take the total over `maxSpend.total`. */
export function checkTotal(amount: bigint, spent: bigint, policy: Pick<ResolvedPolicy, "limits">): void {
  const { total } = policy.limits;
  if (total !== undefined && spent + amount > total) {
    throw new Edge402Error(
      ClientErrorCodes.budgetExceeded,
      `Paying ${amount} would bring the total signed to ${spent + amount}, over the budget of ${total}.`,
      { details: { price: amount.toString(), spent: spent.toString(), maxTotal: total.toString() } },
    );
  }
}

/** Throws `budget_exceeded` when one request's price is over the per-request limit. */
export function checkPrice(price: bigint, policy: ResolvedPolicy): void {
  const { perRequest } = policy.limits;
  if (perRequest !== undefined && price > perRequest) {
    throw new Edge402Error(
      ClientErrorCodes.budgetExceeded,
      `The price ${price} is over the per-request budget of ${perRequest}; nothing was paid.`,
      { details: { price: price.toString(), maxPerRequest: perRequest.toString() } },
    );
  }
}

/** A new channel's deposit for a first payment of `amount` at `price`. */
export function newChannelDeposit(price: bigint, amount: bigint, policy: ResolvedPolicy): bigint {
  return max(max(price * policy.depositMultiple, policy.minimumDeposit), amount);
}

/** What to add to a channel that lacks `shortfall` for a payment at `price`. */
export function topUpAmount(price: bigint, shortfall: bigint, policy: ResolvedPolicy): bigint {
  return max(policy.topUp ?? newChannelDeposit(price, shortfall, policy), shortfall);
}

/** The part of a channel the policy looks at. */
export type ChannelChoice = { openBlock: number; state: string; available: bigint };

/** The open channel with the smallest available amount that still covers `amount` (oldest on a tie). */
export function chooseChannel<T extends ChannelChoice>(channels: readonly T[], amount: bigint): T | undefined {
  let best: T | undefined;
  for (const c of channels) {
    if (c.state !== "open" || c.available < amount) continue;
    if (!best || c.available < best.available || (c.available === best.available && c.openBlock < best.openBlock))
      best = c;
  }
  return best;
}

/** The open channel to top up: the one that already covers the most (newest on a tie). */
export function chooseTopUp<T extends ChannelChoice>(channels: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const c of channels) {
    if (c.state !== "open") continue;
    if (!best || c.available > best.available || (c.available === best.available && c.openBlock > best.openBlock))
      best = c;
  }
  return best;
}

export type BackoffOptions = { baseMs: number; maxMs: number };
export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 250, maxMs: 4000 };

/** Exponential backoff with ±25% jitter: base·2^attempt, capped at `maxMs`. */
export function retryDelay(
  attempt: number,
  opts: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const raw = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, attempt));
  return Math.round(raw * (0.75 + 0.5 * random()));
}

/** What a refused payment asks of the client. */
export type RefusalAction =
  /** Nothing was paid: plan a payment. */
  | "pay"
  /** The server holds another balance: reconcile with its returned proof, then pay again. */
  | "reconcile"
  /** The channel is too young for the server: wait (backed off), then send the same proof. */
  | "wait"
  /** The proof exceeds the deposit the server knows: read the chain, then wait or top up. */
  | "check_deposit"
  /** The server does not know the channel: read the chain, then wait or drop it. */
  | "check_channel"
  /** The channel is closing: stop using it and pay from another one. */
  | "switch_channel"
  /** The credit or session did not do: pay with a new proof. */
  | "drop_session"
  /** Retrying cannot help. */
  | "fail";

export function refusalAction(code: ErrorCode | undefined): RefusalAction {
  switch (code) {
    case "payment_required":
      return "pay";
    case "invalid_amount":
      return "reconcile";
    case "insufficient_confirmations":
      return "wait";
    case "insufficient_deposit":
      return "check_deposit";
    case "nonexisting_channel":
      return "check_channel";
    case "channel_closing":
      return "switch_channel";
    case "insufficient_credit":
    case "invalid_session":
      return "drop_session";
    default:
      return "fail";
  }
}

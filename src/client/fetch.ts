// The auto-paying fetch: the same signature as `fetch`, paying a 402 through a channel and
// sending the request again, a bounded number of times. A payment rides only on the request it
// was made for: each attempt goes out with `redirect: "manual"` and redirects are followed here,
// unpaid (redirect.ts), so a priced target is paid, if at all, through its own 402 and the
// budgets. What each refusal means, and what it does to the books, is refusal.ts.
import type { ChannelBook } from "./book.js";
import type { ChainAccess } from "./chain.js";
import { Edge402Error } from "./errors.js";
import type { Hooks, PaymentReceipt } from "./hooks.js";
import type { ChannelReport } from "./ledger.js";
import type { Payer, Payment } from "./payer.js";
import { retryDelay, type BackoffOptions } from "./policy.js";
import { closeServed, reportFor } from "./reconcile.js";
import { isRedirect, MAX_REDIRECTS, nextHop } from "./redirect.js";
import { stepAfterRefusal, type RefusalStep } from "./refusal.js";
import { type PriceBook, RequestTemplate } from "./request.js";
import { readChannelReport, readRefusal, readTerms, type Refusal, type Terms } from "./response.js";
import type { PaidStreams } from "./stream.js";

export type PayingFetchOptions = {
  payer: Payer;
  book: ChannelBook;
  chain: ChainAccess;
  hooks: Hooks;
  prices: PriceBook;
  /** The fetch that sends (default `globalThis.fetch`). */
  fetch: typeof fetch;
  /** Requests sent per call at most, the unpaid first one included (default 6). */
  maxAttempts: number;
  backoff: BackoffOptions;
  /** A 429 is retried when its `Retry-After` is at most this (ms); else it is returned. */
  maxRetryAfterMs: number;
  /** Where paid event streams are noted for `followPaidStreams`. */
  streams?: PaidStreams;
};

function discard(res: Response): void {
  res.body?.cancel().catch(() => undefined);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** `Retry-After` in ms (delta seconds or an HTTP date), or undefined. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function receiptOf(
  payment: Payment,
  ours: ChannelReport & { cost: bigint },
  res: Response,
  req: RequestTemplate,
): PaymentReceipt {
  const ledger = payment.ledger;
  return {
    url: req.url,
    method: req.method,
    status: res.status,
    kind: payment.kind,
    channel: ledger.ref,
    cost: ours.cost,
    balance: ours.balance,
    deposit: ours.deposit ?? ledger.deposit,
    credit: ours.credit ?? ledger.credit,
  };
}

/** Closes the books of a payment answered with something other than a 402, and tells `afterPay`. */
async function recordServed(
  options: PayingFetchOptions,
  payment: Payment,
  res: Response,
  req: RequestTemplate,
): Promise<void> {
  const ours = reportFor(payment.ledger, readChannelReport(res.headers));
  await closeServed(options.payer, payment, ours, res.ok);
  await options.book.save();
  if (ours?.cost !== undefined)
    await options.hooks.afterPay?.(receiptOf(payment, { ...ours, cost: ours.cost }, res, req));
  // A metered stream's cost comes at its end (stream.ts closes its books there).
  else if (ours) options.streams?.note(res, { kind: payment.kind, ledger: payment.ledger });
}

/**
 * One URL's attempts: sent unpaid (or paid at once at the price an earlier 402 announced), then
 * paid through the 402 path, until an answer that is not a 402 to pay or `maxAttempts` is spent.
 */
class PaidAttempts {
  private payment: Payment | undefined;
  private attempt = 0;
  /** Resends of the same proof so far: the backoff grows with them. */
  private resends = 0;

  constructor(
    private readonly options: PayingFetchOptions,
    private readonly req: RequestTemplate,
  ) {}

  async send(useKnownPrice: boolean): Promise<Response> {
    const { options, req } = this;
    if (req.paysItself) return options.fetch(req.build());
    const announced = useKnownPrice ? options.prices.get(req.method, req.url) : undefined;
    if (announced && announced.price > 0n) this.payment = await options.payer.plan(announced, req);
    for (;;) {
      this.attempt++;
      const res = await this.sendOnce();
      if (await this.waitedOutRateLimit(res)) continue;
      if (res.status !== 402) {
        if (this.payment) await recordServed(options, this.payment, res, req);
        return res;
      }
      const terms = this.termsOf(res);
      if (!terms) return res;
      await this.answerRefusal(res, terms);
    }
  }

  /** Sends the request with the current payment; one that got no answer may be at the server. */
  private async sendOnce(): Promise<Response> {
    try {
      return await this.options.fetch(this.req.build(this.payment));
    } catch (err) {
      if (this.payment) {
        this.options.payer.finish(this.payment, "unknown");
        await this.options.book.save();
      }
      throw err;
    }
  }

  /** True after waiting out a 429 whose `Retry-After` is short enough: the same request goes again. */
  private async waitedOutRateLimit(res: Response): Promise<boolean> {
    if (res.status !== 429) return false;
    const delayMs = retryAfterMs(res.headers.get("retry-after"));
    if (delayMs === undefined || delayMs > this.options.maxRetryAfterMs || this.attempt >= this.options.maxAttempts)
      return false;
    discard(res);
    const { url } = this.req;
    this.options.hooks.onProgress?.({ type: "retry", code: "rate_limited", attempt: this.attempt, delayMs, url });
    await sleep(delayMs, this.req.signal);
    return true;
  }

  private finishRefused(): void {
    if (this.payment) this.options.payer.finish(this.payment, "refused");
  }

  /** The 402's terms (remembered for the next call to this URL), or null when it names none. */
  private termsOf(res: Response): Terms | null {
    let terms: Terms | null;
    try {
      terms = readTerms(res.headers, this.req.url);
    } catch (err) {
      this.finishRefused();
      discard(res);
      throw err;
    }
    if (!terms) {
      this.finishRefused();
      return null;
    }
    this.options.prices.set(this.req.method, this.req.url, terms);
    return terms;
  }

  /**
   * Settles the refused payment and readies the next attempt (the same proof, or a new one); throws
   * when the refusal ends the call.
   */
  private async answerRefusal(res: Response, terms: Terms): Promise<void> {
    const refusal = await readRefusal(res);
    const step = await this.stepAfter(res, refusal);
    if (step.kind === "fail" || this.attempt >= this.options.maxAttempts) {
      if (step.kind === "resend") this.finishRefused();
      await this.options.book.save();
      const gaveUp = step.kind === "fail" ? "" : ` (gave up after ${this.attempt} attempts)`;
      throw new Edge402Error(refusal.code, `${this.req.method} ${this.req.url}: ${refusal.message}${gaveUp}`, {
        status: 402,
        response: res,
      });
    }
    discard(res);
    if (step.kind === "resend") {
      await this.backOff(refusal);
    } else {
      this.payment = undefined;
      this.payment = await this.options.payer.plan(terms, this.req, step.options);
    }
  }

  private async stepAfter(res: Response, refusal: Refusal): Promise<RefusalStep> {
    let step: RefusalStep;
    try {
      step = await stepAfterRefusal(this.options, this.payment, refusal, readChannelReport(res.headers));
    } catch (err) {
      await this.options.book.save();
      discard(res);
      throw err;
    }
    await this.options.book.save();
    return step;
  }

  /** Waits before the same proof goes again (never a storm); an abort gives the proof up. */
  private async backOff(refusal: Refusal): Promise<void> {
    const delayMs = retryDelay(this.resends++, this.options.backoff);
    this.options.hooks.onProgress?.({
      type: "retry",
      code: refusal.code,
      attempt: this.attempt,
      delayMs,
      url: this.req.url,
    });
    try {
      await sleep(delayMs, this.req.signal);
    } catch (err) {
      this.finishRefused();
      await this.options.book.save();
      throw err;
    }
  }
}

/**
 * The request a redirect answer leads to when the caller's mode follows it, or null when `res`
 * is the answer. Throws a TypeError, as fetch does, in `error` mode and past `MAX_REDIRECTS`.
 */
function redirectTarget(req: RequestTemplate, res: Response, hops: number): RequestTemplate | null {
  const mode = req.redirectMode;
  if (!isRedirect(res) || mode === "manual") return null;
  if (mode === "error") {
    discard(res);
    throw new TypeError(`fetch failed: ${req.url} redirected and the request's redirect mode is "error"`);
  }
  const next = nextHop(req, res);
  if (!next) return null;
  discard(res);
  if (hops >= MAX_REDIRECTS) throw new TypeError(`fetch failed: more than ${MAX_REDIRECTS} redirects from ${req.url}`);
  return next;
}

/** The paying `fetch` over the client's payer, book and chain; see the module comment. */
export function createPayingFetch(options: PayingFetchOptions): typeof fetch {
  return async function edge402Fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    let req = await RequestTemplate.from(input, init);
    for (let hops = 0; ; hops++) {
      const res = await new PaidAttempts(options, req).send(hops === 0);
      const next = redirectTarget(req, res, hops);
      if (!next) return res;
      req = next;
    }
  };
}

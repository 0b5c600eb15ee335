// The auto-paying fetch: same signature as `fetch`. A request goes out (paid at once when its
// price is known from an earlier 402, else unpaid); a 402 with terms is paid through the payer
// and sent again, with a bounded number of attempts. Each refusal is handled by what it means
// (policy.ts `refusalAction`): too few confirmations, or a deposit or channel the server has
// not seen yet, resends the same proof after a backoff (never a storm); `invalid_amount`
// reconciles with the server's returned balance the way µRaiden did (adopt it when its
// signature recovers to us, else stop with `balance_mismatch`), and a proof absorbed by a higher
// one of ours is paid from the credit it became; a closing or vanished channel is dropped; a
// short credit or bad session falls back to a proof. Anything else stops with the server's code.
// Redirects are never followed with payment headers: each attempt goes out with
// `redirect: "manual"`, and a redirect answer is followed here (redirect.ts) when the caller's
// mode is `follow`, as a fresh request that starts unpaid, so a priced target is paid, if at
// all, through its own 402 and the budgets; `error` throws and `manual` returns it as fetch would.
import type { ChannelBook } from "./book.js";
import type { ChainAccess } from "./chain.js";
import { Edge402Error } from "./errors.js";
import type { Hooks } from "./hooks.js";
import type { Payer, Payment } from "./payer.js";
import { retryDelay, type BackoffOptions } from "./policy.js";
import { closeServed, reportFor } from "./reconcile.js";
import { isRedirect, MAX_REDIRECTS, nextHop } from "./redirect.js";
import { stepAfterRefusal, type RefusalStep } from "./refusal.js";
import { type PriceBook, RequestTemplate } from "./request.js";
import { readChannelReport, readRefusal, readTerms, type Terms } from "./response.js";

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

export function createPayingFetch(o: PayingFetchOptions): typeof fetch {
  async function served(payment: Payment, res: Response, req: RequestTemplate): Promise<void> {
    const ledger = payment.ledger;
    const ours = reportFor(ledger, readChannelReport(res.headers));
    await closeServed(o.payer, payment, ours, res.ok);
    await o.book.save();
    if (ours?.cost !== undefined) {
      await o.hooks.afterPay?.({
        url: req.url,
        method: req.method,
        status: res.status,
        kind: payment.kind,
        channel: {
          chainId: ledger.chainId,
          contract: ledger.contract,
          receiver: ledger.receiver,
          openBlock: ledger.openBlock,
        },
        cost: ours.cost,
        balance: ours.balance,
        deposit: ours.deposit ?? ledger.deposit,
        credit: ours.credit ?? ledger.credit,
      });
    }
  }

  /** One URL's attempts: sent unpaid (or paid at the price known from an earlier 402 when
   * `usePrices`), then paid through the 402 path, until an answer that is not a 402 to pay. */
  async function sendPaying(req: RequestTemplate, usePrices: boolean): Promise<Response> {
    if (req.paysItself) return o.fetch(req.build());

    let payment: Payment | undefined;
    const known = usePrices ? o.prices.get(req.method, req.url) : undefined;
    if (known && known.price > 0n) payment = await o.payer.plan(known, req);
    let waits = 0;
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await o.fetch(req.build(payment));
      } catch (err) {
        if (payment) {
          o.payer.finish(payment, "unknown");
          await o.book.save();
        }
        throw err;
      }

      if (res.status === 429) {
        const delay = retryAfterMs(res.headers.get("retry-after"));
        if (delay !== undefined && delay <= o.maxRetryAfterMs && attempt < o.maxAttempts) {
          discard(res);
          o.hooks.onProgress?.({ type: "retry", code: "rate_limited", attempt, delayMs: delay, url: req.url });
          await sleep(delay, req.signal);
          continue;
        }
      }
      if (res.status !== 402) {
        if (payment) await served(payment, res, req);
        return res;
      }

      let terms: Terms | null;
      try {
        terms = readTerms(res.headers, req.url);
      } catch (err) {
        if (payment) o.payer.finish(payment, "refused");
        discard(res);
        throw err;
      }
      if (!terms) {
        if (payment) o.payer.finish(payment, "refused");
        return res;
      }
      o.prices.set(req.method, req.url, terms);
      const refusal = await readRefusal(res);
      let decision: RefusalStep;
      try {
        decision = await stepAfterRefusal(o, payment, refusal, readChannelReport(res.headers));
      } catch (err) {
        await o.book.save();
        discard(res);
        throw err;
      }
      await o.book.save();

      if (decision.kind === "fail" || attempt >= o.maxAttempts) {
        if (decision.kind === "resend" && payment) o.payer.finish(payment, "refused");
        await o.book.save();
        throw new Edge402Error(
          refusal.code,
          `${req.method} ${req.url}: ${refusal.message}${decision.kind === "fail" ? "" : ` (gave up after ${attempt} attempts)`}`,
          {
            status: 402,
            response: res,
          },
        );
      }
      discard(res);
      if (decision.kind === "resend") {
        const delayMs = retryDelay(waits++, o.backoff);
        o.hooks.onProgress?.({ type: "retry", code: refusal.code, attempt, delayMs, url: req.url });
        try {
          await sleep(delayMs, req.signal);
        } catch (err) {
          if (payment) o.payer.finish(payment, "refused");
          await o.book.save();
          throw err;
        }
      } else {
        payment = undefined;
        payment = await o.payer.plan(terms, req, decision.options);
      }
    }
  }

  return async function edge402Fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    let req = await RequestTemplate.from(input, init);
    const mode = req.redirectMode;
    for (let hops = 0; ; hops++) {
      const res = await sendPaying(req, hops === 0);
      if (!isRedirect(res) || mode === "manual") return res;
      if (mode === "error") {
        discard(res);
        throw new TypeError(`fetch failed: ${req.url} redirected and the request's redirect mode is "error"`);
      }
      const next = nextHop(req, res);
      if (!next) return res;
      if (hops >= MAX_REDIRECTS) {
        discard(res);
        throw new TypeError(`fetch failed: more than ${MAX_REDIRECTS} redirects from ${req.url}`);
      }
      discard(res);
      req = next;
    }
  };
}

// A request that can be sent more than once, because the paying fetch resends it after a 402:
// read once from the caller's arguments, its body buffered, and every attempt built fresh with
// `redirect: "manual"` (redirect.ts). Also `PriceBook`, so a repeated request pays at once.
import { formatUint } from "../protocol/codec.js";
import { paymentHeaderNames, RdnHeaders } from "../protocol/headers.js";
import type { Payment } from "./payer.js";
import type { Terms } from "./response.js";

export class RequestTemplate {
  private constructor(
    readonly url: string,
    readonly method: string,
    private readonly headers: Headers,
    private readonly body: ArrayBuffer | undefined,
    private readonly extra: Pick<
      RequestInit,
      | "signal"
      | "redirect"
      | "credentials"
      | "cache"
      | "referrer"
      | "referrerPolicy"
      | "integrity"
      | "keepalive"
      | "mode"
    >,
  ) {}

  static async from(input: RequestInfo | URL, init?: RequestInit): Promise<RequestTemplate> {
    const streaming = typeof ReadableStream !== "undefined" && init?.body instanceof ReadableStream;
    const request = new Request(input, streaming ? ({ ...init, duplex: "half" } as RequestInit) : init);
    const body = request.body ? await request.arrayBuffer() : undefined;
    return new RequestTemplate(request.url, request.method, new Headers(request.headers), body, {
      signal: request.signal,
      redirect: request.redirect,
      credentials: request.credentials,
      cache: request.cache,
      referrer: request.referrer,
      referrerPolicy: request.referrerPolicy,
      integrity: request.integrity,
      keepalive: request.keepalive,
      mode: request.mode,
    });
  }

  get signal(): AbortSignal | undefined {
    return this.extra.signal ?? undefined;
  }

  /** How the caller wants redirects handled (`follow` unless it said otherwise). */
  get redirectMode(): RequestRedirect {
    return this.extra.redirect ?? "follow";
  }

  /** The headers the caller set (a copy). */
  get headerList(): Headers {
    return new Headers(this.headers);
  }

  get hasBody(): boolean {
    return this.body !== undefined;
  }

  /** The same request options at another URL, method, headers and body (a redirect's next hop). */
  derive(url: string, method: string, headers: Headers, keepBody: boolean): RequestTemplate {
    return new RequestTemplate(url, method, new Headers(headers), keepBody ? this.body : undefined, this.extra);
  }

  /** True when the caller set payment headers itself: then the client does not pay for it. */
  get paysItself(): boolean {
    return paymentHeaderNames.some((n) => this.headers.has(n));
  }

  build(payment?: Payment): Request {
    const headers = new Headers(this.headers);
    if (payment?.kind === "proof") {
      const l = payment.ledger;
      headers.set(RdnHeaders.senderAddress, l.sender);
      headers.set(RdnHeaders.openBlock, String(l.openBlock));
      headers.set(RdnHeaders.balance, formatUint(payment.balance));
      headers.set(RdnHeaders.balanceSignature, payment.signature);
    } else if (payment?.kind === "session") {
      headers.set(RdnHeaders.session, payment.token);
      headers.set(RdnHeaders.senderAddress, payment.ledger.sender);
      headers.set(RdnHeaders.openBlock, String(payment.ledger.openBlock));
    }
    const init: RequestInit = { ...this.extra, method: this.method, headers, redirect: "manual" };
    if (init.mode === "navigate") delete init.mode;
    if (this.body !== undefined) init.body = this.body.slice(0);
    return new Request(this.url, init);
  }
}

/** The last terms (with price) seen for each `METHOD url`, at most `limit` entries (oldest dropped). */
export class PriceBook {
  private readonly entries = new Map<string, Terms>();

  constructor(private readonly limit = 1000) {}

  get(method: string, url: string): Terms | undefined {
    return this.entries.get(`${method} ${url}`);
  }

  set(method: string, url: string, terms: Terms): void {
    const key = `${method} ${url}`;
    this.entries.delete(key);
    this.entries.set(key, terms);
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(method: string, url: string): void {
    this.entries.delete(`${method} ${url}`);
  }
}

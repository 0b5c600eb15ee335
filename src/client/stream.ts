// Metered streams on the client: a paid event stream's body is handed to the caller unchanged,
// chunk by chunk as it arrives, while a StreamWatch reads it in passing. At its end the ledger
// takes the server's final cost and credit (`: rdn-cost`, `: rdn-credit`) and `afterPay` hears
// of it; when it ended with the pay event (`rdn-payment-required`) after new events, the request
// is sent again through the paying fetch (which pays: a new proof adding credit) with
// `Last-Event-ID`, and the new response's events follow in the same body.
import { isEventStream } from "../protocol/stream.js";
import type { ChannelBook } from "./book.js";
import { ClientErrorCodes, Edge402Error } from "./errors.js";
import type { Hooks } from "./hooks.js";
import type { ChannelLedger } from "./ledger.js";
import { readChannelReport } from "./response.js";
import { StreamWatch } from "./stream-watch.js";

/** The payment behind a served response, as the paying fetch noted it. */
type PaidBy = { kind: "proof" | "session"; ledger: ChannelLedger };

/**
 * The paid event streams the paying fetch has answered and not yet handed over, each with the
 * payment behind it: a metered stream's cost comes at its end, so its books close there.
 */
export class PaidStreams {
  private readonly paid = new WeakMap<Response, PaidBy>();

  /** Notes a paid answer that is an event stream (anything else is left alone). */
  note(res: Response, paidBy: PaidBy): void {
    if (isEventStream(res.headers) && res.body) this.paid.set(res, paidBy);
  }

  take(res: Response): PaidBy | undefined {
    const paidBy = this.paid.get(res);
    this.paid.delete(res);
    return paidBy;
  }
}

type StreamDeps = { paying: typeof fetch; book: ChannelBook; hooks: Hooks; streams: PaidStreams };

/** How many times one followed stream is paid again and resumed at most: each resumption pays a
 *  request (bounded by `maxSpend.perRequest`), so a server that ends every piece after one event
 *  with the pay event cannot make one `fetch` pay without end. */
export const MAX_STREAM_RESUMES = 100;
/** The pay event's code on which paying again helps: the channel's credit ran out. Any other
 *  (a closing channel, an expired reservation) ends the stream. */
const RESUMABLE = "insufficient_credit";
type Call = { input: RequestInfo | URL; init?: RequestInit; method: string };

/**
 * Wraps the paying fetch: a paid event stream comes back with a body that follows it (and its
 * resumptions); every other answer as it was.
 */
export function followPaidStreams(deps: StreamDeps): typeof fetch {
  return async function edge402StreamingFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const res = await deps.paying(input, init);
    const paidBy = deps.streams.take(res);
    if (!paidBy) return res;
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    const follower = new StreamFollower(deps, { input, init, method }, res, paidBy);
    const out = new Response(follower.body(), { status: res.status, statusText: res.statusText, headers: res.headers });
    Object.defineProperty(out, "url", { value: res.url });
    return out;
  };
}

class StreamFollower {
  private reader: ReadableStreamDefaultReader<Uint8Array>;
  private watch = new StreamWatch();
  private resumes = 0;

  constructor(
    private readonly deps: StreamDeps,
    private readonly call: Call,
    private res: Response,
    private paidBy: PaidBy,
  ) {
    this.reader = res.body!.getReader();
  }

  body(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>(
      {
        pull: (controller) => this.pull(controller),
        cancel: (reason) => this.reader.cancel(reason),
      },
      { highWaterMark: 0 },
    );
  }

  /** Passes the next chunk on as it is; at a response's end closes its books and resumes if it
   *  ended with the pay event. */
  private async pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    for (;;) {
      const { done, value } = await this.reader.read();
      if (!done) {
        this.watch.push(value);
        controller.enqueue(value);
        return;
      }
      await this.closeBooks();
      const next = await this.resume();
      if (!next) return controller.close();
      this.res = next.res;
      this.paidBy = next.paidBy;
      this.reader = next.res.body!.getReader();
      this.watch = new StreamWatch();
    }
  }

  /** The ledger takes the stream's final credit; `afterPay` hears its cost. */
  private async closeBooks(): Promise<void> {
    const { cost, credit } = this.watch;
    if (cost === undefined) return;
    const { ledger, kind } = this.paidBy;
    if (credit !== undefined) ledger.applyReport({ credit });
    await this.deps.book.save();
    const report = readChannelReport(this.res.headers);
    await this.deps.hooks.afterPay?.({
      url: this.res.url,
      method: this.call.method,
      status: this.res.status,
      kind,
      channel: ledger.ref,
      cost,
      balance: report?.balance ?? ledger.accepted,
      deposit: ledger.deposit,
      credit: ledger.credit,
    });
  }

  /** After the pay event and new events, the request again with `Last-Event-ID`, paid anew. */
  private async resume(): Promise<{ res: Response; paidBy: PaidBy } | null> {
    const w = this.watch;
    if (w.paymentRequired?.code !== RESUMABLE || w.events === 0 || w.lastEventId === undefined) return null;
    if (this.call.method !== "GET") return null;
    const request = new Request(this.call.input, this.call.init);
    if (++this.resumes > MAX_STREAM_RESUMES)
      throw new Edge402Error(
        ClientErrorCodes.budgetExceeded,
        `the stream ${request.url} asked to be paid again more than ${MAX_STREAM_RESUMES} times; not resuming`,
      );
    const headers = new Headers(request.headers);
    headers.set("Last-Event-ID", w.lastEventId);
    const res = await this.deps.paying(new Request(request, { headers }));
    const paidBy = this.deps.streams.take(res);
    if (res.ok && paidBy) return { res, paidBy };
    await res.body?.cancel().catch(() => undefined);
    throw new Edge402Error(
      ClientErrorCodes.serverUnreachable,
      `resuming the stream ${request.url} after event ${w.lastEventId} answered ${res.status} without a paid stream`,
      { status: res.status },
    );
  }
}

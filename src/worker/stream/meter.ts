// A metered route's response as it flows (`metered.stream: true`): a TransformStream between the
// handler's body and the client that counts bytes, SSE events and time, passes every byte the
// moment the reservation covers it, takes the next slice from credit when it does not, and
// settles the channel at the measured cost when the stream ends, fails or the client goes away.
// Nothing is held back: bytes leave as the handler writes them, and only what was passed is
// charged. An event stream that cannot be paid for ends between two events, with the pay event.
import { maxBigint } from "../../protocol/amount.js";
import type { PayResult } from "../channel/object.js";
import { meteredCharge } from "../channel/state.js";
import { meterCost, type MeterOptions } from "../pricing.js";
import { costComment, paymentRequiredEvent, SseScanner } from "./sse.js";

/** How the stream reaches its reservation in the channel's object. */
export type StreamChannel = {
  /** Adds up to `amount` (at least `atLeast`) from credit and renews the expiry; 0, 0 renews. */
  extend(amount: bigint, atLeast: bigint): Promise<PayResult>;
  /** Charges `cost` (capped at the reservation) and frees the rest. */
  settle(cost: bigint): Promise<PayResult>;
};

export type StreamMeterOptions = {
  meter: MeterOptions;
  /** One slice: what the first request reserved (the route's maximum), taken again each time. */
  slice: bigint;
  /** When the handler started (ms): serving time counts from here. */
  startedAt: number;
  /** How often a reservation is renewed while the stream flows without needing more. */
  renewEveryMs: number;
  /** Read the body as an event stream: charge per event, cut between events. */
  sse: boolean;
  channel: StreamChannel;
};

/** What the stream was charged and the channel's credit after it (undefined if unknown). */
export type StreamSettlement = { cost: bigint; credit: bigint | undefined };

type Controller = TransformStreamDefaultController<Uint8Array>;
type Cut = { at: number; events: number; open: boolean };

/** Never renews more often than this (ms), whatever the route's serving time. */
const MIN_RENEW_MS = 1000;

/**
 * The meter of one streamed response: `stream` is the TransformStream to pipe the body through;
 * `done` settles once the channel was charged (or the settle failed), for `waitUntil`.
 */
export class StreamMeter {
  readonly stream: TransformStream<Uint8Array, Uint8Array>;
  readonly done: Promise<StreamSettlement | null>;
  private reserved: bigint;
  private bytes = 0;
  private events = 0;
  private readonly scanner: SseScanner | null;
  private finished = false;
  private lastRenew: number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private settling: Promise<StreamSettlement> | undefined;
  private resolveDone!: (s: StreamSettlement | null) => void;
  /** Why the channel would not pay for more (the pay event's `code`). */
  private refusal = "insufficient_credit";
  private controller!: Controller;

  constructor(
    private readonly o: StreamMeterOptions,
    reserved: bigint,
  ) {
    this.reserved = reserved;
    this.lastRenew = Date.now();
    this.scanner = o.sse ? new SseScanner() : null;
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    this.stream = new TransformStream<Uint8Array, Uint8Array>({
      start: (controller) => {
        this.controller = controller;
        this.schedule();
      },
      transform: (chunk) => this.serial(() => this.pass(chunk)),
      flush: () => this.serial(() => this.end()),
      cancel: () => this.abandon(),
    });
  }

  /** Runs `step` after the steps before it (chunks, timer checks); a failure settles and errors. */
  private serial(step: () => Promise<void>): Promise<void> {
    const run = this.queue.then(step).catch(async (err: unknown) => {
      await this.abandon();
      try {
        this.controller.error(err);
      } catch {
        // Already closed or errored.
      }
      throw err;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Passes a chunk, segment by segment (an event stream is cut where each block starts), each
   *  once the reservation covers the cost with it; stops at the first it cannot cover. */
  private async pass(chunk: Uint8Array): Promise<void> {
    if (this.finished) return;
    const wasInBlock = this.scanner?.inBlock ?? true;
    let from = 0;
    for (const cut of this.cuts(chunk)) {
      if (cut.at === from) continue;
      const segment = chunk.subarray(from, cut.at);
      const atBoundary = from > 0 || !wasInBlock;
      const events = cut.events + (cut.open ? 1 : 0);
      if (!(await this.cover(this.bytes + segment.length, events))) return this.stop(atBoundary);
      this.controller.enqueue(segment);
      this.bytes += segment.length;
      this.events = cut.events;
      from = cut.at;
    }
  }

  /** Where the chunk's segments end, with the events completed there and whether a block is
   *  open (a block in progress is covered as one more event before its bytes pass). */
  private cuts(chunk: Uint8Array): Cut[] {
    const s = this.scanner;
    if (!s) return [{ at: chunk.length, events: 0, open: false }];
    const cuts: Cut[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (i > 0 && s.startsBlock(byte)) cuts.push({ at: i, events: s.events, open: false });
      s.push(byte);
    }
    cuts.push({ at: chunk.length, events: s.events, open: s.inBlock });
    return cuts;
  }

  /** The measured cost with `bytes` and `events` now, uncapped. */
  private cost(bytes: number, events: number): bigint {
    return meterCost(this.o.meter, { ms: Math.max(0, Date.now() - this.o.startedAt), bytes, events });
  }

  /** True when the reservation covers `bytes` and `events` now, after taking the next slice
   *  from credit if it must (at least what is missing); false when the channel cannot pay. */
  private async cover(bytes: number, events: number): Promise<boolean> {
    const cost = this.cost(bytes, events);
    if (cost <= this.reserved) return true;
    const missing = cost - this.reserved;
    const r = await this.o.channel.extend(maxBigint(missing, this.o.slice), missing);
    if (!r.ok) {
      this.refusal = r.code;
      return false;
    }
    this.reserved += r.cost;
    this.lastRenew = Date.now();
    this.schedule();
    return true;
  }

  /** Ends a stream the channel cannot pay for: settled first, then, between two events of an
   *  event stream, the pay event and the cost comment; anywhere else the body is cut off with
   *  an error, so a client never takes a truncated body for a whole one. */
  private async stop(atBoundary: boolean): Promise<void> {
    const controller = this.controller;
    this.finished = true;
    clearTimeout(this.timer);
    const settled = await this.settle();
    if (!(this.scanner && atBoundary)) {
      controller.error(new Error(`edge402: the stream's payment ran out (${this.refusal})`));
      return;
    }
    controller.enqueue(
      paymentRequiredEvent({
        code: this.refusal,
        cost: settled.cost.toString(),
        credit: (settled.credit ?? 0n).toString(),
        needed: this.o.slice.toString(),
      }),
    );
    controller.enqueue(costComment(settled.cost, settled.credit));
    controller.terminate();
  }

  /** The handler's body ended: settle, then (event stream) the cost comment. */
  private async end(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    const settled = await this.settle();
    if (this.scanner) this.controller.enqueue(costComment(settled.cost, settled.credit));
  }

  /** The client went away (the readable side was cancelled) or the stream failed: settle at
   *  what was passed. */
  private async abandon(): Promise<void> {
    this.finished = true;
    clearTimeout(this.timer);
    await this.settle().catch(() => undefined);
  }

  /** Charges what was passed, once (the channel's settle retries a failed call itself; a settle
   *  that landed twice changes nothing the second time). Resolves `done` either way. */
  private settle(): Promise<StreamSettlement> {
    this.settling ??= (async () => {
      const cost = meteredCharge(this.cost(this.bytes, this.events), this.reserved);
      try {
        const r = await this.o.channel.settle(cost);
        const settled = { cost, credit: r.ok ? r.channel.credit : r.channel?.credit };
        this.resolveDone(settled);
        return settled;
      } catch (err) {
        this.resolveDone(null);
        throw err;
      }
    })();
    return this.settling;
  }

  /** Arms the one timer: when the time charge would pass the reservation, or the next renewal
   *  of the reservation's expiry, whichever comes first. */
  private schedule(): void {
    clearTimeout(this.timer);
    if (this.finished) return;
    const perMs = this.o.meter.perMs ?? 1;
    const renewAt = this.lastRenew + Math.max(this.o.renewEveryMs, MIN_RENEW_MS);
    const spentAt = perMs > 0 ? this.o.startedAt + Number(this.reserved) / perMs + 1 : Number.POSITIVE_INFINITY;
    const at = Math.min(renewAt, spentAt);
    this.timer = setTimeout(
      () => void this.serial(() => this.tick()).catch(() => undefined),
      Math.max(0, at - Date.now()),
    );
  }

  /** The timer: take the next slice if time has used this one up (or stop), else renew. */
  private async tick(): Promise<void> {
    if (this.finished) return;
    const open = this.scanner?.inBlock ? 1 : 0;
    if (this.cost(this.bytes, this.events + open) > this.reserved) {
      if (!(await this.cover(this.bytes, this.events + open))) return this.stop(!open);
      return;
    }
    const r = await this.o.channel.extend(0n, 0n);
    if (!r.ok) {
      this.refusal = r.code;
      return this.stop(!open);
    }
    this.lastRenew = Date.now();
    this.schedule();
  }
}

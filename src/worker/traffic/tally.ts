// An isolate's traffic counts added up by minute, kind and code before a store takes them: the
// first count of a second schedules the hand-over FLUSH_EVERY_MS later (kept alive by the
// request's waitUntil), so a busy isolate writes a few rows or data points a second, not one
// per request. Counts still held when an isolate is evicted are lost: these are a chart's
// figures, not an account (the exact totals are the channels' own).
import type { TrafficCount } from "./counts.js";
import { errorText, log, LogEvents } from "../log.js";

/** How long an isolate holds counts before handing them to the store. */
export const FLUSH_EVERY_MS = 1000;

export class Tally {
  private readonly counts = new Map<string, TrafficCount>();
  private scheduled = false;

  /** Adds `count`; the first one since the last hand-over schedules `flush` (which `take`s). */
  add(count: TrafficCount, flush: () => Promise<void>, waitUntil?: (p: Promise<unknown>) => void): void {
    const key = `${count.minute}|${count.kind}|${count.code}`;
    const held = this.counts.get(key);
    if (held) {
      held.requests += count.requests;
      held.earnings += count.earnings;
    } else this.counts.set(key, { ...count });
    if (this.scheduled) return;
    this.scheduled = true;
    const write = new Promise((r) => setTimeout(r, FLUSH_EVERY_MS)).then(flush);
    if (waitUntil) waitUntil(write);
    else write.catch((err) => log.error(LogEvents.trafficCountFailed, { step: "write", error: errorText(err) }));
  }

  /** Hands over (and forgets) at most `limit` of the counts held; the rest wait for the flush
   *  the next `add` schedules. */
  take(limit = Number.POSITIVE_INFINITY): TrafficCount[] {
    this.scheduled = false;
    const out: TrafficCount[] = [];
    for (const [key, count] of this.counts) {
      if (out.length >= limit) break;
      out.push(count);
      this.counts.delete(key);
    }
    return out;
  }
}

/** One tally per store (a D1 database, an Analytics Engine dataset) in this isolate. */
export function tallyPer<K extends object>(): (store: K) => Tally {
  const tallies = new WeakMap<K, Tally>();
  return (store) => {
    let t = tallies.get(store);
    if (!t) {
      t = new Tally();
      tallies.set(store, t);
    }
    return t;
  };
}

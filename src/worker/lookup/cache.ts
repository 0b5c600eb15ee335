// A bounded negative cache of channel look-ups: channels the chain said it does not have
// (`missing`) or not with enough confirmations yet (`unconfirmed`), kept a few seconds so that
// asking again about the same unknown channel costs no RPC call. Oldest entries go first past
// NEGATIVE_CACHE_LIMIT. The Worker keeps one per isolate in front of the LookupObject, which
// keeps one for every isolate.
import { BoundedMap } from "../bounded-map.js";

/** Entries kept at most; past that the oldest is dropped. */
export const NEGATIVE_CACHE_LIMIT = 10_000;
/** How long each answer is reused: a missing channel longer than an unconfirmed one, which
 *  a few blocks will confirm. */
export const NEGATIVE_TTL_MS = { missing: 5000, unconfirmed: 1500 } as const;

export type NegativeStatus = keyof typeof NEGATIVE_TTL_MS;

export class NegativeCache {
  private readonly entries: BoundedMap<string, { status: NegativeStatus; until: number }>;

  constructor(limit = NEGATIVE_CACHE_LIMIT) {
    this.entries = new BoundedMap(limit);
  }

  get(key: string, now: number): NegativeStatus | null {
    const e = this.entries.get(key);
    if (!e) return null;
    if (e.until > now) return e.status;
    this.entries.delete(key);
    return null;
  }

  set(key: string, status: NegativeStatus, now: number): void {
    this.entries.set(key, { status, until: now + NEGATIVE_TTL_MS[status] });
  }

  get size(): number {
    return this.entries.size;
  }
}

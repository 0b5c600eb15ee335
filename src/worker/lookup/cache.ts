// A bounded negative cache of channel look-ups: channels the chain said it does not have
// (`missing`) or not with enough confirmations yet (`unconfirmed`), kept a few seconds so that
// asking again about the same unknown channel costs no RPC call. Oldest entries go first past
// NEGATIVE_CACHE_LIMIT. The Worker keeps one per isolate in front of the LookupObject, which
// keeps one for every isolate.

/** Entries kept at most; past that the oldest is dropped. */
export const NEGATIVE_CACHE_LIMIT = 10_000;
/** How long each answer is reused: a missing channel longer than an unconfirmed one, which
 *  a few blocks will confirm. */
export const NEGATIVE_TTL_MS = { missing: 5000, unconfirmed: 1500 } as const;

export type NegativeStatus = keyof typeof NEGATIVE_TTL_MS;

export class NegativeCache {
  private entries = new Map<string, { status: NegativeStatus; until: number }>();

  constructor(private readonly limit = NEGATIVE_CACHE_LIMIT) {}

  get(key: string, now: number): NegativeStatus | null {
    const e = this.entries.get(key);
    if (!e) return null;
    if (e.until > now) return e.status;
    this.entries.delete(key);
    return null;
  }

  set(key: string, status: NegativeStatus, now: number): void {
    this.entries.delete(key);
    this.entries.set(key, { status, until: now + NEGATIVE_TTL_MS[status] });
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value as string);
  }

  get size(): number {
    return this.entries.size;
  }
}

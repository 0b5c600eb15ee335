// The flow-control arithmetic, after Ethereum's LES: one token bucket per client, as pure
// functions of the bucket, the allowance and the clock. A bucket holds cost units; it refills
// continuously at `capacity` units per second up to a buffer of BUFFER_SECONDS of capacity. A
// request is served when the buffer holds its cost, and then pays it; otherwise it is refused,
// pays nothing, and is told when the buffer will hold its cost. A client that keeps sending
// before that time is frozen for a short jittered time (LES: 0.7–1.3 s) rather than banned.
// No I/O, no clock, no randomness of its own: callers pass `now` and `random`, so every rule is
// testable and the FlowObject and the ChannelObject apply the very same decisions.

/** The buffer holds this many seconds of capacity. */
export const BUFFER_SECONDS = 6;
/** A freeze lasts FREEZE_BASE_MS plus up to FREEZE_JITTER_MS (LES: 0.7–1.3 s). */
export const FREEZE_BASE_MS = 700;
export const FREEZE_JITTER_MS = 600;
/** Refused requests sent before their Retry-After, in a row, that earn a freeze. */
export const EARLY_LIMIT = 3;

export type Bucket = {
  /** Cost units in the buffer at `at` (fractional: refill is continuous). */
  level: number;
  /** When `level` was computed (ms since the epoch). */
  at: number;
  /** The time the last refusal told the client to come back (ms), 0 when none is owed. */
  retryAt: number;
  /** Refusals in a row that came before `retryAt`. */
  early: number;
  /** Until when the client is frozen (ms), 0 when it is not. */
  frozenUntil: number;
  /** Requests served and refused through this bucket (refusals cost nothing, but count). */
  served: number;
  refused: number;
};

/** What a client is told about its allowance (the RateLimit header fields carry it). */
export type FlowStatus = {
  /** Units per second. */
  capacity: number;
  /** The buffer: capacity × BUFFER_SECONDS. */
  buffer: number;
  /** Whole units left in the buffer after this request. */
  remaining: number;
  /** Milliseconds until the buffer is full again. */
  fullInMs: number;
};

export type Admission =
  | { ok: true; bucket: Bucket; status: FlowStatus }
  | { ok: false; bucket: Bucket; status: FlowStatus; retryAfterMs: number; frozen: boolean };

/** The request's cost and the client's allowance, as the bucket needs them. */
export type FlowCharge = { capacity: number; cost: number };

export const bufferOf = (capacity: number): number => capacity * BUFFER_SECONDS;

/** A client never seen before starts with a full buffer. */
export function newBucket(capacity: number, now: number): Bucket {
  return { level: bufferOf(capacity), at: now, retryAt: 0, early: 0, frozenUntil: 0, served: 0, refused: 0 };
}

/** The bucket refilled up to `now` (a clock that went back refills nothing). */
export function refill(b: Bucket | null | undefined, capacity: number, now: number): Bucket {
  if (!b) return newBucket(capacity, now);
  const elapsed = Math.max(0, now - b.at);
  const level = Math.min(bufferOf(capacity), b.level + (capacity * elapsed) / 1000);
  return { ...b, level, at: Math.max(now, b.at) };
}

/** The client's view of a (refilled) bucket. */
export function statusOf(b: Bucket, capacity: number): FlowStatus {
  const buffer = bufferOf(capacity);
  const level = Math.max(0, Math.min(buffer, b.level));
  return {
    capacity,
    buffer,
    remaining: Math.floor(level + 1e-9),
    fullInMs: capacity > 0 ? Math.ceil(((buffer - level) / capacity) * 1000) : 0,
  };
}

/** The status of a bucket at `now`, without taking anything from it. */
export function peek(b: Bucket | null | undefined, capacity: number, now: number): FlowStatus {
  return statusOf(refill(b, capacity, now), capacity);
}

/**
 * Serves or refuses one request of `cost` units against the bucket at `now`. A cost above the
 * whole buffer is taken as the whole buffer (it can never be served otherwise). `random` in
 * [0, 1) draws the freeze's jitter.
 */
export function admit(b: Bucket | null | undefined, charge: FlowCharge, now: number, random: number): Admission {
  const { capacity } = charge;
  if (!(capacity > 0)) throw new Error(`edge402: flow capacity must be positive, got ${capacity}`);
  const cost = Math.min(Math.max(0, charge.cost), bufferOf(capacity));
  const filled = refill(b, capacity, now);

  const frozen = filled.frozenUntil > now;
  if (!frozen && filled.level + 1e-9 >= cost) {
    const bucket: Bucket = {
      ...filled,
      level: Math.max(0, filled.level - cost),
      retryAt: 0,
      early: 0,
      frozenUntil: 0,
      served: filled.served + 1,
    };
    return { ok: true, bucket, status: statusOf(bucket, capacity) };
  }

  const refillMs = Math.max(0, Math.ceil(((cost - filled.level) / capacity) * 1000));
  let frozenUntil = frozen ? filled.frozenUntil : 0;
  let early = filled.early;
  if (!frozen) {
    if (now < filled.retryAt) early += 1;
    if (early >= EARLY_LIMIT) {
      frozenUntil = now + FREEZE_BASE_MS + Math.floor(Math.min(Math.max(random, 0), 1) * FREEZE_JITTER_MS);
      early = 0;
    }
  }
  const retryAfterMs = Math.max(refillMs, frozenUntil - now, 1);
  const bucket: Bucket = {
    ...filled,
    early,
    frozenUntil,
    retryAt: Math.max(filled.retryAt, now + retryAfterSeconds(retryAfterMs) * 1000),
    refused: filled.refused + 1,
  };
  return { ok: false, bucket, status: statusOf(bucket, capacity), retryAfterMs, frozen: frozenUntil > now };
}

/** `Retry-After` in whole seconds, rounded up (never 0 for a refusal). */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

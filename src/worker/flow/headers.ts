// The flow-control response headers. The allowance and its current state go out in the IETF
// format of draft-ietf-httpapi-ratelimit-headers (revisions 08 to 11, Structured Fields):
//
//   RateLimit-Policy: "free";q=30;w=6     the policy: a buffer of q cost units, refilled in w s
//   RateLimit: "free";r=12;t=4            this client now: r units left, full again in t s
//
// The policy is "free" (clients without a channel, keyed by IP) or "paid" (a channel paying by
// proof or session). A unit is one flow-control cost unit (a route's `costUnits`, default 1),
// so q/w is the sustained capacity per second. A 429 adds `Retry-After` (whole seconds until
// the buffer holds the request's cost, or the client's freeze ends). A trial route adds
// `RDN-Trial-Remaining`: whole seconds of the client's trial left, 0 once it is over.
import { BUFFER_SECONDS, retryAfterSeconds, type FlowStatus } from "./bucket.js";

export type FlowPolicy = "free" | "paid";

export const FlowHeaders = {
  policy: "RateLimit-Policy",
  rateLimit: "RateLimit",
  retryAfter: "Retry-After",
  trialRemaining: "RDN-Trial-Remaining",
} as const;

const policyCache = new Map<string, Readonly<Record<string, string>>>();

/** `RateLimit-Policy` alone: the allowance, when no bucket was consulted. The record is shared
 *  (cached per policy and capacity, a handful per deployment): callers copy it, never change it. */
export function policyHeader(policy: FlowPolicy, capacity: number): Readonly<Record<string, string>> {
  const key = `${policy}:${capacity}`;
  let h = policyCache.get(key);
  if (!h) {
    h = Object.freeze({ [FlowHeaders.policy]: `"${policy}";q=${capacity * BUFFER_SECONDS};w=${BUFFER_SECONDS}` });
    if (policyCache.size >= 64) policyCache.delete(policyCache.keys().next().value as string);
    policyCache.set(key, h);
  }
  return h;
}

/** `RateLimit-Policy` and `RateLimit` for a client whose bucket is in `status`. */
export function rateLimitHeaders(policy: FlowPolicy, status: FlowStatus): Record<string, string> {
  return {
    ...policyHeader(policy, status.capacity),
    [FlowHeaders.rateLimit]: `"${policy}";r=${status.remaining};t=${Math.ceil(status.fullInMs / 1000)}`,
  };
}

/** The headers of a 429: the rate-limit fields and `Retry-After`. */
export function limitedHeaders(policy: FlowPolicy, status: FlowStatus, retryAfterMs: number): Record<string, string> {
  return { ...rateLimitHeaders(policy, status), [FlowHeaders.retryAfter]: String(retryAfterSeconds(retryAfterMs)) };
}

/** `RDN-Trial-Remaining` in whole seconds, rounded up (0 once the trial is over). */
export function trialHeader(remainingMs: number): Record<string, string> {
  return { [FlowHeaders.trialRemaining]: String(Math.max(0, Math.ceil(remainingMs / 1000))) };
}

// How the Worker teaches a channel's object what the chain says, when the object answered with a
// `lookup` hint (a channel it never met, or a proof above the deposit it knows). Each look-up
// is paid from the requester's free allowance and the strangers' budget, cheapest check first,
// so unknown channels cost strangers, not the paywall; a known channel never gets here.
import type { Address } from "viem";
import { channelId } from "../../protocol/channel-key.js";
import type { ErrorCode } from "../../protocol/errors.js";
import type { LearnedChannel, LookupHint } from "../channel/object.js";
import type { Config } from "../config.js";
import type { Env } from "../env.js";
import type { LookupObject } from "./object.js";
import { retryAfterSeconds } from "../flow/bucket.js";
import { FlowHeaders, limitedHeaders } from "../flow/headers.js";
import { flowStub } from "../flow/stub.js";
import { NegativeCache, type NegativeStatus } from "./cache.js";

/** Free flow-control units one look-up of an unknown channel costs (it spends two RPC calls). */
export const LOOKUP_COST_UNITS = 2;

/** This isolate's negative cache (bounded), in front of the LookupObject's. */
const negativeLookup = new NegativeCache();
/** This isolate's look-ups in flight, by channel and hint. */
const running = new Map<string, Promise<Learned>>();

type Learned = { channel: LearnedChannel } | { refusal: LookupRefusal | null };

/** Why a look-up did not lead to a second call of the object. */
export type LookupRefusal = {
  ok: false;
  code: ErrorCode;
  message?: string;
  retryAfterMs?: number;
  headers?: Record<string, string>;
};

const NEGATIVE_CODES: Record<NegativeStatus, ErrorCode> = {
  missing: "nonexisting_channel",
  unconfirmed: "insufficient_confirmations",
};

export function lookupStub(env: Env) {
  const ns = env.LOOKUPS as DurableObjectNamespace<LookupObject>;
  return ns.get(ns.idFromName("lookups"));
}

/**
 * Calls a channel's object (`call()`); when it answers with a `lookup` hint, reads the chain and
 * calls it once more with the record learned. The read passes, in order: this isolate's
 * negative cache and its look-ups in flight (one per channel), the requester's free bucket
 * (LOOKUP_COST_UNITS; `request`'s IP names it) and the LookupObject's budget. Over an
 * allowance: 429 with Retry-After; a node that does not answer: 503 chain_unavailable; either
 * way nothing changed.
 */
export async function withLookup<R extends { ok: boolean; lookup?: LookupHint }>(
  env: Env,
  config: Config,
  request: Request,
  sender: Address,
  openBlock: number,
  call: (learned?: LearnedChannel) => Promise<R>,
): Promise<R | LookupRefusal> {
  const first = await call();
  if (first.ok || !first.lookup) return first;
  const key = `${channelId(sender, openBlock)}:${first.lookup}`;
  let pending = running.get(key);
  if (!pending) {
    pending = learn(env, config, request, sender, openBlock, first.lookup).finally(() => running.delete(key));
    running.set(key, pending);
  }
  const learned = await pending;
  if ("refusal" in learned) return learned.refusal ?? first;
  return call(learned.channel);
}

async function learn(
  env: Env,
  config: Config,
  request: Request,
  sender: Address,
  openBlock: number,
  hint: LookupHint,
): Promise<Learned> {
  const key = channelId(sender, openBlock);
  const cached = hint === "channel" ? negativeLookup.get(key, Date.now()) : null;
  if (cached) return { refusal: { ok: false, code: NEGATIVE_CODES[cached] } };
  if (config.flowControl) {
    const answer = await flowStub(env, config, request).admit({
      capacity: config.freeCapacity,
      cost: LOOKUP_COST_UNITS,
      limit: true,
    });
    if (!answer.ok && answer.reason === "rate_limited") {
      return {
        refusal: {
          ok: false,
          code: "rate_limited",
          message:
            "Too many chain look-ups (unknown channels, deposit re-reads) from this client; retry after the indicated delay.",
          retryAfterMs: answer.retryAfterMs,
          headers: limitedHeaders("free", answer.status, answer.retryAfterMs),
        },
      };
    }
  }
  const answer = await lookupStub(env).lookup(sender, openBlock);
  switch (answer.status) {
    case "found":
      return { channel: answer.channel };
    case "missing":
    case "unconfirmed":
      negativeLookup.set(key, answer.status, Date.now());
      // A deposit re-read that finds no channel keeps the object's own refusal.
      return { refusal: hint === "channel" ? { ok: false, code: NEGATIVE_CODES[answer.status] } : null };
    case "rate_limited":
      return {
        refusal: {
          ok: false,
          code: "rate_limited",
          message: "The paywall's chain look-ups are busy; retry after the indicated delay.",
          retryAfterMs: answer.retryAfterMs,
          headers: { [FlowHeaders.retryAfter]: String(retryAfterSeconds(answer.retryAfterMs)) },
        },
      };
    case "chain_unavailable":
      return {
        refusal: { ok: false, code: "chain_unavailable", message: `The chain node did not answer: ${answer.message}` },
      };
  }
}

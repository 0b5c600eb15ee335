// LookupObject: the one place where strangers' requests reach the chain (one per deployment).
// Anyone can make the paywall look up a channel with a throwaway key, so these reads get their
// own RPC client (LOOKUP_RPC_URL, else RPC_URL) and budget (LOOKUP_RATE per second), apart from
// the sync's and the receiver's: strangers can never spend the node capacity disputes need.
import { DurableObject } from "cloudflare:workers";
import { createPublicClient, http, type Address, type PublicClient } from "viem";
import { channelId } from "../../protocol/channel-key.js";
import { ChainUnavailableError, lookupChannel, rpcErrorText } from "../chain.js";
import type { LearnedChannel } from "../channel/object.js";
import { getConfig, type Config } from "../config.js";
import type { Env } from "../env.js";
import { refill, type Bucket } from "../flow/bucket.js";
import { NegativeCache } from "./cache.js";

export type LookupAnswer =
  | { status: "found"; channel: LearnedChannel }
  | { status: "missing" | "unconfirmed" }
  | { status: "rate_limited"; retryAfterMs: number }
  | { status: "chain_unavailable"; message: string };

export type LookupStats = { lookups: number; refused: number; rpcRequests: number; budget: number };

/**
 * The Durable Object through which strangers' chain look-ups go (one per deployment), with its
 * own RPC budget. Bind it as `LOOKUPS` and export it from the Worker's entry.
 *
 * @example
 * ```ts
 * // wrangler.jsonc: "durable_objects": { "bindings": [{ "name": "LOOKUPS", "class_name": "LookupObject" }] }
 * export { LookupObject } from "edge402/worker";
 * ```
 */
export class LookupObject extends DurableObject<Env> {
  private bucket: Bucket | null = null;
  private readonly negativeLookup = new NegativeCache();
  private readonly running = new Map<string, Promise<LookupAnswer>>();
  private client: { url: string; client: PublicClient } | null = null;
  private stats_: LookupStats = { lookups: 0, refused: 0, rpcRequests: 0, budget: 0 };

  /** The channel as the chain has it at the confirmed block, or why it cannot be told now. */
  async lookup(sender: Address, openBlock: number): Promise<LookupAnswer> {
    const now = Date.now();
    const key = channelId(sender, openBlock);
    const cached = this.negativeLookup.get(key, now);
    if (cached) return { status: cached };
    const running = this.running.get(key);
    if (running) return running;
    const config = getConfig(this.env);
    const retryAfterMs = this.take(config.lookupRate, now);
    if (retryAfterMs !== null) {
      this.stats_.refused++;
      return { status: "rate_limited", retryAfterMs };
    }
    this.stats_.lookups++;
    const read = this.read(config, sender, openBlock, key).finally(() => this.running.delete(key));
    this.running.set(key, read);
    return read;
  }

  /** What strangers have spent (tests, and the operator's view). */
  async stats(): Promise<LookupStats> {
    const config = getConfig(this.env);
    return { ...this.stats_, budget: Math.floor(refill(this.bucket, config.lookupRate, Date.now()).level) };
  }

  /** Takes one read from the budget; the wait in ms when it is empty, else null. */
  private take(rate: number, now: number): number | null {
    const b = refill(this.bucket, rate, now);
    if (b.level + 1e-9 < 1) {
      this.bucket = b;
      return Math.max(1, Math.ceil(((1 - b.level) / rate) * 1000));
    }
    this.bucket = { ...b, level: b.level - 1 };
    return null;
  }

  private async read(config: Config, sender: Address, openBlock: number, key: string): Promise<LookupAnswer> {
    try {
      const r = await lookupChannel(config, sender, openBlock, this.rpc(config));
      if (r.status === "found")
        return { status: "found", channel: { ...r.channel, confirmedBlock: Number(r.confirmedBlock) } };
      this.negativeLookup.set(key, r.status, Date.now());
      return { status: r.status };
    } catch (err) {
      return {
        status: "chain_unavailable",
        message: err instanceof ChainUnavailableError ? err.message : rpcErrorText(err),
      };
    }
  }

  private rpc(config: Config): PublicClient {
    const url = config.lookupRpcUrl ?? config.rpcUrl;
    if (this.client?.url !== url) {
      const client = createPublicClient({
        transport: http(url, {
          timeout: 10_000,
          retryCount: 0,
          batch: { wait: 0 },
          fetchFn: (input, init) => {
            this.stats_.rpcRequests++;
            return fetch(input, init);
          },
        }),
      }) as PublicClient;
      this.client = { url, client };
    }
    return this.client.client;
  }
}

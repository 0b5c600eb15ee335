// ReceiverObject: the one place that sends the receiver's transactions (a singleton Durable
// Object per receiver address), so two cron runs, or an admin action and a cron run, can never
// pick the same nonce: every call runs through one queue inside the object. What a call does is
// in plain modules: send.ts (one intent), follow.ts (receipts, replacements, reorgs),
// broadcast.ts (nonce, signing, gas), store.ts (the object's storage), projection.ts (D1).
import { DurableObject } from "cloudflare:workers";
import type { Address } from "viem";
import { publicClient } from "../chain.js";
import { getConfig } from "../config.js";
import type { Env } from "../env.js";
import type { ReceiverContext } from "./broadcast.js";
import { followTxs, STUCK_AFTER_MS } from "./follow.js";
import { sendIntent } from "./send.js";
import { TxStore } from "./store.js";
import {
  viewOf,
  type IntentOutcome,
  type SubmitOptions,
  type SubmitResult,
  type TickOptions,
  type TickResult,
  type TxIntent,
  type TxView,
} from "./txs.js";

/**
 * The Durable Object that sends the receiver's transactions (withdraw, dispute, close, settle)
 * one at a time, so nonces never collide. Bind it as `RECEIVER` (a SQLite class) and export it
 * from the Worker's entry; the sync and the admin actions call it.
 *
 * @example
 * ```ts
 * // wrangler.jsonc: "durable_objects": { "bindings": [{ "name": "RECEIVER", "class_name": "ReceiverObject" }] }
 * export { ReceiverObject } from "edge402/worker";
 * ```
 */
export class ReceiverObject extends DurableObject<Env> {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly store: TxStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new TxStore(ctx.storage.sql);
    ctx.blockConcurrencyWhile(async () => this.store.init());
  }

  /** Sends what each intent asks unless a transaction already covers it (see txs.ts). */
  submit(intents: TxIntent[], opts: SubmitOptions = {}): Promise<SubmitResult> {
    return this.serial(async () => {
      const ctx = this.context();
      const outcomes: IntentOutcome[] = [];
      let alert: string | null = null;
      for (const intent of intents) {
        const outcome = await sendIntent(ctx, intent, opts);
        if (outcome.result === "refused" && outcome.alert) alert = outcome.reason;
        outcomes.push(outcome);
      }
      return { outcomes, alert };
    });
  }

  /** Follows pending transactions: receipts, failures, replacement of stuck ones. */
  tick(opts: TickOptions = {}): Promise<TickResult> {
    return this.serial(() => followTxs(this.context(), opts.stuckAfterMs ?? STUCK_AFTER_MS));
  }

  /** The admin view: the receiver, its current alert, and the latest transactions. */
  async status(limit = 50): Promise<{ address: Address; alert: string | null; alertAt: number | null; txs: TxView[] }> {
    const alert = this.store.alert();
    return {
      address: getConfig(this.env).receiverAddress,
      alert: alert?.text ?? null,
      alertAt: alert?.at ?? null,
      txs: this.store.latest(limit).map(viewOf),
    };
  }

  private context(): ReceiverContext {
    const config = getConfig(this.env);
    return { config, client: publicClient(config), store: this.store, d1: this.env.DB };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

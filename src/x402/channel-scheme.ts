// The `channel` scheme for @x402/core's `x402Client`, so that a stock x402 transport
// (`wrapFetchWithPayment` of @x402/fetch, @x402/axios) pays edge402 through a payment channel:
// one on-chain transaction to open it, then balance proofs and prepaid-credit sessions. It is
// the SDK's payer behind x402's interface, not a second client: the channel book and its store,
// the deposit and prepay policy, the budgets, the contract trust check and the recovery of a
// lost store are the ones `createEdge402Client` uses (client/client.ts `createClientParts`).
// Like @x402/evm's batch-settlement client, the state lives in the scheme: x402 calls
// `createPaymentPayload` with the chosen requirement and later tells the scheme's
// `onPaymentResponse` hook what came back (the receipt's `extra.channel`, or a refusal's offer),
// which closes that payment's books; a refusal that a new payment (or the same proof, after a
// backoff) can answer asks the transport for its one retry (`recovered`). x402 tells a scheme
// neither the request nor its method: the resource URL comes from the 402's `resource`.
import type { PaymentCreationContext, PaymentResponseContext } from "@x402/core/client";
import type {
  PaymentPayloadResult,
  PaymentRequirements,
  SchemeClientHooks,
  SchemeNetworkClient,
} from "@x402/core/types";
import { isErrorCode } from "../protocol/errors.js";
import { CHANNEL_SCHEME } from "../protocol/x402.js";
import type { ChannelSummary, CloseResult, SettleResult } from "../client/channels.js";
import { createClientParts, type ClientParts, type Edge402ClientOptions } from "../client/client.js";
import { ClientErrorCodes, Edge402Error } from "../client/errors.js";
import type { Payment, PlanOptions } from "../client/payer.js";
import { retryDelay } from "../client/policy.js";
import { closeServed, reportFor } from "../client/reconcile.js";
import { stepAfterRefusal } from "../client/refusal.js";
import { payloadOf, reportOfExtra, termsOfRequirement } from "./wire.js";

/**
 * The options of `channelScheme`: those of `createEdge402Client` that are not about sending
 * (x402's transport sends): the signer and chain, the store, `deposit`, `prepay`, `maxSpend`,
 * `maxDeposit`, `trustedContracts`, the `beforePay` and `onProgress` hooks. `fetch` only sends
 * the cooperative close of `close()`.
 */
export type ChannelSchemeOptions = Omit<Edge402ClientOptions, "maxAttempts" | "maxRetryAfterMs" | "afterPay">;

/** What the next payment for a requirement does after a refusal: the same proof, or plan with options. */
type Retry = { resend?: Payment; options?: PlanOptions; resends: number };

/** The `channel` x402 scheme client; see the module comment. */
export class ChannelScheme implements SchemeNetworkClient {
  readonly scheme = CHANNEL_SCHEME;
  readonly schemeHooks: SchemeClientHooks;
  private readonly parts: ClientParts;
  /** The resource URL of each requirement x402 chose (from its 402). */
  private readonly urls = new WeakMap<PaymentRequirements, string>();
  /** The payment each payload sent carries, until its answer closes its books. */
  private readonly sent = new WeakMap<object, Payment>();
  private readonly retries = new WeakMap<PaymentRequirements, Retry>();

  constructor(options: ChannelSchemeOptions) {
    this.parts = createClientParts(options);
    this.schemeHooks = {
      onBeforePaymentCreation: async (ctx) => this.noteResource(ctx),
      onPaymentResponse: (ctx) => this.onPaymentResponse(ctx),
    };
  }

  /** The sender's address. */
  get address(): `0x${string}` {
    return this.parts.chain.address;
  }

  /** What this scheme's store signed away so far (what `maxSpend.total` counts). */
  spent(): bigint {
    return this.parts.book.spent;
  }

  /** What this scheme's store deposited so far (what `maxDeposit` counts). */
  deposited(): bigint {
    return this.parts.book.deposited;
  }

  /** The sender's channels (unsettled unless `all`), refreshed from the chain unless `refresh: false`. */
  channels(opts?: { server?: string; refresh?: boolean; all?: boolean }): Promise<ChannelSummary[]> {
    return this.parts.manager.list(opts);
  }

  /** Closes the channels to a server (its origin): cooperatively, else uncooperatively. */
  close(serverUrl: string, opts?: { uncooperative?: boolean; openBlock?: number }): Promise<CloseResult[]> {
    return this.parts.manager.close(serverUrl, opts);
  }

  /** Settles closing channels whose challenge period is over. */
  settle(opts?: { server?: string }): Promise<SettleResult[]> {
    return this.parts.manager.settle(opts);
  }

  /** x402's hook before a payment is made: remembers the 402's resource URL for the chosen requirement. */
  private noteResource(ctx: PaymentCreationContext): void {
    if (ctx.selectedRequirements.scheme === CHANNEL_SCHEME)
      this.urls.set(ctx.selectedRequirements, ctx.paymentRequired.resource.url);
  }

  /**
   * Plans and signs the payment of one request: the same proof again when a refusal asked for
   * it, else a session spend or a new balance proof (opening or topping up a channel first when
   * the policy says so), under the budgets and the contract trust check.
   */
  async createPaymentPayload(x402Version: number, requirements: PaymentRequirements): Promise<PaymentPayloadResult> {
    const url = this.urls.get(requirements);
    if (url === undefined || !/^https?:\/\//i.test(url)) {
      throw new Edge402Error(
        ClientErrorCodes.invalidArgument,
        "The channel scheme needs x402Client's hooks and an http(s) resource URL: register it with client.register().",
      );
    }
    const terms = termsOfRequirement(requirements, url);
    const retry = this.retries.get(requirements);
    const payment = retry?.resend ?? (await this.parts.payer.plan(terms, { url, method: "*" }, retry?.options ?? {}));
    const payload = payloadOf(payment);
    this.sent.set(payload, payment);
    return { x402Version, payload };
  }

  /** x402's hook after a paid request: closes the payment's books, and asks for a retry when one can help. */
  private async onPaymentResponse(ctx: PaymentResponseContext): Promise<undefined | { recovered: true }> {
    const payment = this.sent.get(ctx.paymentPayload.payload);
    if (!payment) return undefined;
    this.sent.delete(ctx.paymentPayload.payload);
    const { payer, book } = this.parts;
    if (ctx.settleResponse) {
      const ours = reportFor(payment.ledger, reportOfExtra(ctx.settleResponse.extra));
      await closeServed(payer, payment, ours, ctx.settleResponse.success);
      await book.save();
      return undefined;
    }
    if (!ctx.paymentRequired) {
      // No receipt and no 402 (an error, or no answer): the server may hold the proof.
      payer.finish(payment, "unknown");
      await book.save();
      return undefined;
    }
    return this.afterRefusal(ctx.requirements, payment, ctx.paymentRequired);
  }

  /** A refused payment: its books by the refusal's meaning, then the retry x402 allows, if one can help. */
  private async afterRefusal(
    requirements: PaymentRequirements,
    payment: Payment,
    required: NonNullable<PaymentResponseContext["paymentRequired"]>,
  ): Promise<undefined | { recovered: true }> {
    const code = isErrorCode(required.error) ? required.error : "payment_required";
    const offer = required.accepts.find((r) => r.scheme === CHANNEL_SCHEME);
    const step = await stepAfterRefusal(
      this.parts,
      payment,
      { code, message: `Refused: ${code}.` },
      reportOfExtra(offer?.extra),
    );
    await this.parts.book.save();
    if (step.kind === "fail") return undefined;
    const resends = this.retries.get(requirements)?.resends ?? 0;
    if (step.kind === "plan") {
      this.retries.set(requirements, { options: step.options, resends });
      return { recovered: true };
    }
    const delayMs = retryDelay(resends, this.parts.backoff);
    const url = this.urls.get(requirements) ?? "";
    this.parts.hooks.onProgress?.({ type: "retry", code, attempt: resends + 1, delayMs, url });
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    this.retries.set(requirements, { resend: payment, resends: resends + 1 });
    return { recovered: true };
  }
}

/**
 * The `channel` scheme for @x402/core's `x402Client`: pays edge402 through a payment channel
 * (see ChannelScheme).
 *
 * @param options - The signer and chain, the store, the deposit, prepay and budget policy (see
 *   `ChannelSchemeOptions`).
 * @returns The scheme, to register for the EVM networks it may pay on.
 * @throws Edge402Error `invalid_argument` for missing or invalid options.
 * @example
 * ```ts
 * import { x402Client } from "@x402/core/client";
 * import { wrapFetchWithPayment } from "@x402/fetch";
 * import { channelScheme } from "edge402/x402";
 *
 * const client = new x402Client().register("eip155:*", channelScheme({ account, rpcUrl, prepay: true }));
 * const res = await wrapFetchWithPayment(fetch, client)("http://127.0.0.1:8787/echofix/hello");
 * ```
 */
export function channelScheme(options: ChannelSchemeOptions): ChannelScheme {
  return new ChannelScheme(options);
}

// What a metered event stream carries besides the handler's events, spelled once for the
// Worker that writes it and the client that reads it: the final cost comment, and the event that
// ends a stream whose channel cannot pay for more.

/**
 * The comment lines that end every metered event stream (EventSource ignores comments):
 * `: rdn-cost <charged>` and `: rdn-credit <the channel's credit after it>`.
 *
 * @example
 * ```ts
 * `: ${StreamComments.cost} 37`; // ": rdn-cost 37"
 * ```
 */
export const StreamComments = { cost: "rdn-cost", credit: "rdn-credit" } as const;

/** The event type that ends a metered stream the channel cannot pay for (`event: rdn-payment-required`). */
export const PAYMENT_REQUIRED_EVENT = "rdn-payment-required";

/**
 * The pay event's JSON data, amounts as decimal strings: `code` says why the stream stopped
 * (`insufficient_credit`, or `channel_closing`, `payment_required` when its reservation ended),
 * `cost` what the stream was charged, `credit` the channel's credit after that charge, and
 * `needed` the credit a new request to the route reserves (its `RDN-Price`).
 */
export type PaymentRequiredData = { code: string; cost: string; credit: string; needed: string };

/**
 * Whether an answer's body is an event stream (`Content-Type: text/event-stream`). A Worker and
 * `fetch` see bodies decoded, whatever their `Content-Encoding`.
 *
 * @example
 * ```ts
 * isEventStream(new Headers({ "content-type": "text/event-stream; charset=utf-8" })); // true
 * ```
 */
export function isEventStream(headers: Headers): boolean {
  return (headers.get("content-type")?.toLowerCase() ?? "").startsWith("text/event-stream");
}

// The client's one error type, whose code is data: a program branches on `err.code`, the CLI
// prints it and exits by it, and the docs list the same strings, so they never change meaning.
import type { ErrorCode } from "../protocol/errors.js";

/**
 * The reasons the client itself stops, as stable snake_case strings (the server's reasons are
 * the protocol's `ErrorCode`s). `Edge402Error.code` holds one or the other.
 *
 * @example
 * try {
 *   await client.fetch(url);
 * } catch (err) {
 *   if (isEdge402Error(err) && err.code === ClientErrorCodes.budgetExceeded) console.log("over budget");
 * }
 */
export const ClientErrorCodes = {
  /** A request's price or the total signed would exceed `maxSpend`, or a deposit `maxDeposit`. Nothing was paid. */
  budgetExceeded: "budget_exceeded",
  /** The server's channel contract is not this project's channel manager (its code differs, or
   * its challenge period is out of bounds) and is not in `trustedContracts`. Nothing was paid. */
  untrustedContract: "untrusted_contract",
  /** The `beforePay` hook declined. Nothing was paid. */
  paymentDeclined: "payment_declined",
  /** The server reported a balance whose signature does not recover to this sender. */
  balanceMismatch: "balance_mismatch",
  /** The server's terms are incomplete or malformed. */
  invalidTerms: "invalid_terms",
  /** The server's terms disagree with the chain (chain id, token of the contract). */
  termsMismatch: "terms_mismatch",
  /** The sender's token balance cannot cover the deposit. */
  insufficientFunds: "insufficient_funds",
  /** No channel to act on (close, top up, settle). */
  noChannel: "no_channel",
  /** The server's closing proof is unusable (wrong signer, balance above what we signed). */
  invalidClosingProof: "invalid_closing_proof",
  /** A transaction failed or reverted. */
  chainError: "chain_error",
  /** The server could not be reached or answered something that is not the protocol. */
  serverUnreachable: "server_unreachable",
  /** Bad options or arguments. */
  invalidArgument: "invalid_argument",
} as const;

/** One of the client's own reasons, `ClientErrorCodes`' values. */
export type ClientErrorCode = (typeof ClientErrorCodes)[keyof typeof ClientErrorCodes];

/** Every code an `Edge402Error` carries: the client's own, or the protocol's that a server answered with. */
export type Edge402ErrorCode = ClientErrorCode | ErrorCode;

/** What an `Edge402Error` carries besides its code and message. */
export type Edge402ErrorOptions = {
  /** The HTTP status of the last response, when a server answered. */
  status?: number;
  /** The last response (its body may already be consumed). */
  response?: Response;
  /** Figures behind the error as strings (e.g. `price` and `maxPerRequest` for `budget_exceeded`). */
  details?: Record<string, string>;
  /** The error that caused this one. */
  cause?: unknown;
};

/**
 * Why a payment or channel action did not happen. `code` is stable: one of `ClientErrorCodes`,
 * or the protocol's code a server refused with after bounded retries (e.g.
 * `insufficient_confirmations`). Every method of the client throws it for what the client or
 * the server refused; a network failure of `fetch` itself still throws what `fetch` throws.
 *
 * @param code - The stable reason.
 * @param message - A sentence for people; do not parse it.
 * @param options - The HTTP status and response when a server answered, details, the cause.
 *
 * @example
 * try {
 *   await client.fetch(url);
 * } catch (err) {
 *   if (!isEdge402Error(err)) throw err;
 *   console.error(err.code, err.message, err.status, err.details);
 * }
 */
export class Edge402Error extends Error {
  override readonly name = "Edge402Error";
  /** The stable reason: branch on this, not on the message. */
  readonly code: Edge402ErrorCode;
  /** The HTTP status of the last response, when a server answered. */
  readonly status?: number;
  /** The last response (its body may already be consumed). */
  readonly response?: Response;
  /** Figures behind the error, as strings. */
  readonly details?: Record<string, string>;

  constructor(code: Edge402ErrorCode, message: string, options: Edge402ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.status !== undefined) this.status = options.status;
    if (options.response !== undefined) this.response = options.response;
    if (options.details !== undefined) this.details = options.details;
  }
}

/**
 * Whether `e` is an `Edge402Error`, narrowing its type.
 *
 * @param e - Anything caught.
 * @returns True for an `Edge402Error`.
 *
 * @example
 * if (isEdge402Error(err) && err.code === "payment_declined") return;
 */
export function isEdge402Error(e: unknown): e is Edge402Error {
  return e instanceof Edge402Error;
}

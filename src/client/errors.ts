// The client's one error type. `Edge402Error` carries a stable snake_case code: either a
// protocol code the server answered with (`insufficient_confirmations`, `invalid_amount`, ...,
// when bounded retries could not get the request paid) or one of the client's own reasons
// below (the budget or a hook said no, the server's balance did not verify, the chain refused a
// transaction, ...). Codes are data, the same in the SDK, the CLI's exit output and the docs.
import type { ErrorCode } from "../protocol/errors.js";

/** Reasons the client itself stops, as stable snake_case strings. */
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

export type ClientErrorCode = (typeof ClientErrorCodes)[keyof typeof ClientErrorCodes];

export type Edge402ErrorCode = ClientErrorCode | ErrorCode;

export type Edge402ErrorOptions = {
  /** The HTTP status of the last response, when a server answered. */
  status?: number;
  /** The last response (its body may already be consumed). */
  response?: Response;
  details?: Record<string, string>;
  cause?: unknown;
};

/** Why a payment or channel action did not happen. */
export class Edge402Error extends Error {
  override readonly name = "Edge402Error";
  readonly code: Edge402ErrorCode;
  readonly status?: number;
  readonly response?: Response;
  readonly details?: Record<string, string>;

  constructor(code: Edge402ErrorCode, message: string, options: Edge402ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.status !== undefined) this.status = options.status;
    if (options.response !== undefined) this.response = options.response;
    if (options.details !== undefined) this.details = options.details;
  }
}

export function isEdge402Error(e: unknown): e is Edge402Error {
  return e instanceof Edge402Error;
}

// The protocol's error codes as data (x402's model): stable snake_case strings, the same in code,
// docs and tests, with each one's HTTP status, refusal flag and default message, and the one
// error type that the codec, the verifier and the server throw and the client rebuilds.
import { RdnFlags } from "./headers.js";

/** Every error reason, as a stable snake_case string. */
export const ErrorCodes = {
  malformedHeader: "malformed_header",
  paymentRequired: "payment_required",
  invalidBalanceProof: "invalid_balance_proof",
  nonexistingChannel: "nonexisting_channel",
  insufficientConfirmations: "insufficient_confirmations",
  channelClosing: "channel_closing",
  insufficientDeposit: "insufficient_deposit",
  invalidAmount: "invalid_amount",
  insufficientCredit: "insufficient_credit",
  invalidSession: "invalid_session",
  rateLimited: "rate_limited",
  unauthorized: "unauthorized",
  invalidCloseRequest: "invalid_close_request",
  notFound: "not_found",
  badRequest: "bad_request",
  invalidProxyTarget: "invalid_proxy_target",
  chainUnavailable: "chain_unavailable",
  internalError: "internal_error",
  malformedPaymentSignature: "malformed_payment_signature",
  unsupportedPaymentScheme: "unsupported_payment_scheme",
  paymentRequirementsMismatch: "payment_requirements_mismatch",
  paymentInvalid: "payment_invalid",
  settlementFailed: "settlement_failed",
  facilitatorUnavailable: "facilitator_unavailable",
} as const;

/** One of the protocol's error codes. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

const errorCodeSet: ReadonlySet<string> = new Set(Object.values(ErrorCodes));

/**
 * Whether `value` is one of the protocol's error codes.
 *
 * @param value - Anything (a response body's `error.code`).
 * @returns True for a known code.
 * @example
 * ```ts
 * isErrorCode("invalid_amount"); // true
 * ```
 */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && errorCodeSet.has(value);
}

/** The HTTP status of a response refused with each code. */
export const errorStatus: Record<ErrorCode, number> = {
  malformed_header: 400,
  bad_request: 400,
  invalid_proxy_target: 400,
  payment_required: 402,
  invalid_balance_proof: 402,
  nonexisting_channel: 402,
  insufficient_confirmations: 402,
  channel_closing: 402,
  insufficient_deposit: 402,
  invalid_amount: 402,
  insufficient_credit: 402,
  invalid_session: 402,
  rate_limited: 429,
  unauthorized: 401,
  invalid_close_request: 401,
  not_found: 404,
  chain_unavailable: 503,
  internal_error: 500,
  malformed_payment_signature: 400,
  unsupported_payment_scheme: 402,
  payment_requirements_mismatch: 402,
  payment_invalid: 402,
  settlement_failed: 402,
  facilitator_unavailable: 502,
};

/** The flag header (value `1`) that a 402 refused with each refusal code carries. */
export const refusalFlags: Partial<Record<ErrorCode, string>> = {
  invalid_balance_proof: RdnFlags.invalidBalanceProof,
  nonexisting_channel: RdnFlags.nonexistingChannel,
  insufficient_confirmations: RdnFlags.insufficientConfirmations,
  channel_closing: RdnFlags.channelClosing,
  insufficient_deposit: RdnFlags.insufficientDeposit,
  invalid_amount: RdnFlags.invalidAmount,
  insufficient_credit: RdnFlags.insufficientCredit,
};

/** The default message of each code: one sentence, safe to show to a client. */
export const errorMessages: Record<ErrorCode, string> = {
  malformed_header: "A payment header is malformed.",
  payment_required: "This request requires a payment.",
  invalid_balance_proof: "The balance proof signature is invalid for this receiver, contract and chain.",
  nonexisting_channel: "The channel does not exist on chain.",
  insufficient_confirmations: "The channel does not have enough confirmations yet.",
  channel_closing: "The channel is closing and accepts no more payments.",
  insufficient_deposit: "The balance exceeds the channel's deposit.",
  invalid_amount: "The balance does not pay the price of this request.",
  insufficient_credit: "The channel's credit does not cover the price of this request.",
  invalid_session: "The session token is invalid or expired.",
  rate_limited: "Too many requests; retry after the indicated delay.",
  unauthorized: "Missing or invalid credentials.",
  invalid_close_request: "The close request signature or deadline is invalid.",
  not_found: "Not found.",
  bad_request: "The request is invalid.",
  invalid_proxy_target: "This path cannot be forwarded to the origin.",
  chain_unavailable: "The chain is unavailable; the payment cannot be judged now.",
  internal_error: "Internal server error.",
  malformed_payment_signature: "The PAYMENT-SIGNATURE header is not a valid x402 v2 payment payload.",
  unsupported_payment_scheme: "This route does not take that x402 payment scheme.",
  payment_requirements_mismatch: "The x402 payment does not answer this request's payment requirements.",
  payment_invalid: "The x402 facilitator found the payment invalid.",
  settlement_failed: "The x402 payment could not be settled; nothing was served.",
  facilitator_unavailable: "The x402 facilitator cannot be reached; the payment cannot be judged now.",
};

/** The JSON body of every 4xx and 5xx response. */
export type ProtocolErrorBody = {
  error: { code: ErrorCode; message: string; details?: Record<string, string> };
};

/**
 * The protocol's one error type: a stable code, its HTTP status, a message and optional details.
 *
 * @example
 * ```ts
 * throw new ProtocolError("malformed_header", "RDN-Balance: expected an unsigned decimal integer.", {
 *   header: "RDN-Balance",
 * });
 * ```
 */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: Record<string, string>;

  constructor(code: ErrorCode, message?: string, details?: Record<string, string>) {
    super(message ?? errorMessages[code]);
    this.code = code;
    this.status = errorStatus[code];
    if (details !== undefined) this.details = details;
  }

  /** The response body: `{ error: { code, message, details? } }`. */
  toJSON(): ProtocolErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details ? { details: this.details } : {}),
      },
    };
  }
}

/**
 * Whether `e` is a ProtocolError.
 *
 * @param e - A caught value.
 * @returns True for a ProtocolError.
 * @example
 * ```ts
 * try {
 *   parsePaymentHeaders(get);
 * } catch (err) {
 *   if (isProtocolError(err)) return Response.json(err.toJSON(), { status: err.status });
 *   throw err;
 * }
 * ```
 */
export function isProtocolError(e: unknown): e is ProtocolError {
  return e instanceof ProtocolError;
}

/**
 * Rebuilds a `ProtocolError` from a parsed response body (the client side of `toJSON`). Only
 * string details are kept.
 *
 * @param body - A parsed JSON body.
 * @returns The error, or null when the body is not a protocol error body with a known code.
 * @example
 * ```ts
 * const err = protocolErrorFromBody(await res.json());
 * if (err?.code === "insufficient_credit") await topUp();
 * ```
 */
export function protocolErrorFromBody(body: unknown): ProtocolError | null {
  if (typeof body !== "object" || body === null) return null;
  const error = (body as { error?: unknown }).error;
  if (typeof error !== "object" || error === null) return null;
  const { code, message, details } = error as { code?: unknown; message?: unknown; details?: unknown };
  if (!isErrorCode(code)) return null;
  let safeDetails: Record<string, string> | undefined;
  if (typeof details === "object" && details !== null && !Array.isArray(details)) {
    safeDetails = {};
    for (const [k, v] of Object.entries(details)) if (typeof v === "string") safeDetails[k] = v;
  }
  return new ProtocolError(code, typeof message === "string" ? message : undefined, safeDetails);
}

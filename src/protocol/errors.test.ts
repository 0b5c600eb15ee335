import { describe, expect, it } from "vitest";
import {
  ErrorCodes,
  errorMessages,
  errorStatus,
  isErrorCode,
  isProtocolError,
  ProtocolError,
  protocolErrorFromBody,
  refusalFlags,
  type ErrorCode,
} from "./errors.js";
import { RdnFlags } from "./headers.js";

const codes = Object.values(ErrorCodes) as ErrorCode[];
const refusals: ErrorCode[] = [
  "invalid_balance_proof",
  "nonexisting_channel",
  "insufficient_confirmations",
  "channel_closing",
  "insufficient_deposit",
  "invalid_amount",
  "insufficient_credit",
];

describe("error codes", () => {
  it("are stable snake_case strings", () => {
    expect(codes).toHaveLength(24);
    for (const code of codes) expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it("every code has a status and a one-sentence message", () => {
    for (const code of codes) {
      expect(errorStatus[code], code).toBeTypeOf("number");
      expect(errorMessages[code], code).toMatch(/^[A-Z].*\.$/);
    }
    expect(Object.keys(errorStatus).sort()).toEqual([...codes].sort());
    expect(Object.keys(errorMessages).sort()).toEqual([...codes].sort());
  });

  it("maps codes to the statuses of PROTOCOL.md", () => {
    expect(errorStatus).toEqual({
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
      malformed_payment_signature: 400,
      unsupported_payment_scheme: 402,
      payment_requirements_mismatch: 402,
      payment_invalid: 402,
      settlement_failed: 402,
      facilitator_unavailable: 502,
      internal_error: 500,
    });
  });

  it("each refusal code has exactly one flag, and no other code has one", () => {
    for (const code of codes) {
      if (refusals.includes(code)) expect(refusalFlags[code], code).toMatch(/^RDN-[A-Z][A-Za-z-]+$/);
      else expect(refusalFlags[code], code).toBeUndefined();
    }
    const flags = Object.values(refusalFlags);
    expect(flags).toHaveLength(7);
    expect(new Set(flags).size).toBe(7);
    expect(new Set(flags)).toEqual(new Set(Object.values(RdnFlags)));
    expect(refusalFlags).toEqual({
      invalid_balance_proof: "RDN-Invalid-Balance-Proof",
      nonexisting_channel: "RDN-Nonexisting-Channel",
      insufficient_confirmations: "RDN-Insufficient-Confirmations",
      channel_closing: "RDN-Channel-Closing",
      insufficient_deposit: "RDN-Insufficient-Deposit",
      invalid_amount: "RDN-Invalid-Amount",
      insufficient_credit: "RDN-Insufficient-Credit",
    });
  });

  it("isErrorCode recognises only the codes", () => {
    for (const code of codes) expect(isErrorCode(code)).toBe(true);
    for (const v of ["", "Malformed_Header", "paymentRequired", 402, null, undefined])
      expect(isErrorCode(v)).toBe(false);
  });
});

describe("ProtocolError", () => {
  it("carries the code, its status and the default message", () => {
    const e = new ProtocolError("insufficient_credit");
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("ProtocolError");
    expect(e.code).toBe("insufficient_credit");
    expect(e.status).toBe(402);
    expect(e.message).toBe(errorMessages.insufficient_credit);
    expect(e.details).toBeUndefined();
    expect(e.toJSON()).toEqual({ error: { code: "insufficient_credit", message: errorMessages.insufficient_credit } });
    expect("details" in e.toJSON().error).toBe(false);
  });

  it("serialises a custom message and details", () => {
    const e = new ProtocolError("malformed_header", "RDN-Balance: bad.", { header: "RDN-Balance" });
    expect(e.status).toBe(400);
    expect(JSON.parse(JSON.stringify(e))).toEqual({
      error: { code: "malformed_header", message: "RDN-Balance: bad.", details: { header: "RDN-Balance" } },
    });
  });

  it("isProtocolError tells it from other errors", () => {
    expect(isProtocolError(new ProtocolError("not_found"))).toBe(true);
    expect(isProtocolError(new Error("x"))).toBe(false);
    expect(isProtocolError({ code: "not_found", status: 404 })).toBe(false);
    expect(isProtocolError(null)).toBe(false);
  });

  it("round-trips through a response body", () => {
    const e = new ProtocolError("rate_limited", "Slow down.", { retryAfter: "3" });
    const back = protocolErrorFromBody(JSON.parse(JSON.stringify(e)));
    expect(back).toBeInstanceOf(ProtocolError);
    expect(back?.toJSON()).toEqual(e.toJSON());
    expect(back?.status).toBe(429);
    expect(protocolErrorFromBody({ error: { code: "not_found" } })?.message).toBe(errorMessages.not_found);
    expect(protocolErrorFromBody({ error: { code: "nope", message: "x" } })).toBeNull();
    expect(protocolErrorFromBody({ message: "x" })).toBeNull();
    expect(protocolErrorFromBody("error")).toBeNull();
    expect(protocolErrorFromBody(null)).toBeNull();
  });
});

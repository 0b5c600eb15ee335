import { describe, expect, it } from "vitest";
import * as protocol from "./index.js";

describe("the protocol package", () => {
  it("exports the shared API from one entry point", () => {
    expect(Object.keys(protocol)).toEqual(
      expect.arrayContaining([
        "ErrorCodes", "errorStatus", "refusalFlags", "errorMessages", "ProtocolError", "isProtocolError",
        "isErrorCode", "protocolErrorFromBody",
        "RdnHeaders", "RdnFlags", "GATEWAY_PATH", "paymentHeaderNames",
        "parseUint", "parseOpenBlock", "parseAddress", "parseSignature", "parseSessionToken", "formatUint",
        "parsePaymentHeaders", "encodeProofHeaders", "encodeSessionHeaders",
        "EIP712_NAME", "EIP712_VERSION", "channelDomain", "balanceProofTypes", "closingProofTypes",
        "closeRequestTypes", "balanceProofTypedData", "closingProofTypedData", "closeRequestTypedData",
        "channelKey", "channelId", "parseChannelId",
        "signBalanceProof", "signClosingProof", "signCloseRequest",
        "recoverBalanceProofSigner", "recoverClosingProofSigner", "recoverCloseRequestSigner",
        "verifyBalanceProof", "verifyClosingProof", "verifyCloseRequest",
        "normalizeSignature", "SECP256K1_N", "SECP256K1_HALF_N", "minBigint", "maxBigint",
      ]),
    );
  });
});

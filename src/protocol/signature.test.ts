import { describe, expect, it } from "vitest";
import { isProtocolError } from "./errors.js";
import { isSignatureShape, normalizeSignature, SECP256K1_HALF_N, SECP256K1_N } from "./signature.js";

const sig =
  "0xc3e578074e1cd43f2213307ff8a0f1a32eb71798d4eb2bd094a085bae97be0a301305869f7180ea164c307b93204656f2bd4bff5b7556e292b76d9a0380611461b";

function code(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    if (isProtocolError(e)) return e.code;
    throw e;
  }
  return "ok";
}

describe("normalizeSignature", () => {
  it("pins the curve constants", () => {
    expect(SECP256K1_N).toBe(115792089237316195423570985008687907852837564279074904382605163141518161494337n);
    expect(SECP256K1_HALF_N).toBe(57896044618658097711785492504343953926418782139537452191302581570759080747168n);
  });

  it("normalises v and case", () => {
    const rs = sig.slice(2, 130);
    expect(normalizeSignature(sig)).toBe(sig);
    expect(normalizeSignature(`0x${rs}00`)).toBe(`0x${rs}1b`);
    expect(normalizeSignature(`0x${rs}01`)).toBe(`0x${rs}1c`);
    expect(normalizeSignature(`0x${rs.toUpperCase()}1C`)).toBe(`0x${rs}1c`);
  });

  it("refuses every broken signature with invalid_balance_proof, shape included", () => {
    expect(code(() => normalizeSignature("0x"))).toBe("invalid_balance_proof");
    expect(code(() => normalizeSignature(sig.slice(0, -2)))).toBe("invalid_balance_proof");
    expect(code(() => normalizeSignature(`${sig.slice(0, -2)}1d`))).toBe("invalid_balance_proof");
  });

  it("attaches the details it is given", () => {
    try {
      normalizeSignature(`${sig.slice(0, -2)}1d`, { header: "RDN-Close-Signature" });
      expect.unreachable();
    } catch (e) {
      expect(isProtocolError(e) && e.details).toEqual({ header: "RDN-Close-Signature" });
    }
  });

  it("isSignatureShape checks only the shape", () => {
    expect(isSignatureShape(sig)).toBe(true);
    expect(isSignatureShape(`${sig.slice(0, -2)}ff`)).toBe(true);
    expect(isSignatureShape(sig.slice(0, -1))).toBe(false);
    expect(isSignatureShape(sig.slice(2))).toBe(false);
  });
});

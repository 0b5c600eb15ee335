import { describe, expect, it } from "vitest";
import {
  encodeProofHeaders,
  encodeSessionHeaders,
  formatUint,
  parseAddress,
  parseOpenBlock,
  parsePaymentHeaders,
  parseSessionToken,
  parseSignature,
  parseUint,
} from "./codec.js";
import { isProtocolError, type ErrorCode } from "./errors.js";
import { SECP256K1_HALF_N, SECP256K1_N } from "./signature.js";

/** Runs `fn` and returns the ProtocolError it throws (fails the test otherwise). */
function thrown(fn: () => unknown): { code: ErrorCode; status: number; message: string; header?: string } {
  try {
    fn();
  } catch (e) {
    if (!isProtocolError(e)) throw e;
    return { code: e.code, status: e.status, message: e.message, header: e.details?.header };
  }
  throw new Error("expected a ProtocolError");
}

function expectMalformed(fn: () => unknown, header: string) {
  const e = thrown(fn);
  expect(e.code).toBe("malformed_header");
  expect(e.status).toBe(400);
  expect(e.header).toBe(header);
  expect(e.message).toContain(header);
}

const F = "RDN-Balance";

describe("parseUint", () => {
  it("accepts plain unsigned decimals", () => {
    expect(parseUint("0", F)).toBe(0n);
    expect(parseUint("5", F)).toBe(5n);
    expect(parseUint("1000000000000000000", F)).toBe(10n ** 18n);
    expect(parseUint((2n ** 192n - 1n).toString(), F)).toBe(2n ** 192n - 1n);
  });

  it.each([
    ["empty", ""],
    ["leading space", " 5"],
    ["trailing space", "5 "],
    ["inner space", "5 5"],
    ["trailing newline", "5\n"],
    ["tab", "\t5"],
    ["plus sign", "+5"],
    ["minus sign", "-1"],
    ["negative zero", "-0"],
    ["decimal point", "5.0"],
    ["trailing dot", "5."],
    ["hex", "0x5"],
    ["leading zero", "05"],
    ["double zero", "00"],
    ["exponent", "1e3"],
    ["upper exponent", "1E3"],
    ["underscore", "1_000"],
    ["comma", "1,000"],
    ["arabic-indic digit", "\u0665"],
    ["fullwidth digit", "\uff15"],
    ["devanagari digits", "\u0967\u0968"],
    ["infinity", "Infinity"],
    ["NaN", "NaN"],
    ["just over uint192", (2n ** 192n).toString()],
    ["far over uint192", (2n ** 200n).toString()],
    ["79 digits", "1".repeat(79)],
    ["1000 digits", "9".repeat(1000)],
    ["100k digits", "1".repeat(100_000)],
  ])("refuses %s", (_name, value) => {
    expectMalformed(() => parseUint(value, F), F);
  });

  it("honours the bit width", () => {
    expect(parseUint((2n ** 64n - 1n).toString(), "RDN-Close-Deadline", 64)).toBe(2n ** 64n - 1n);
    expectMalformed(() => parseUint((2n ** 64n).toString(), "RDN-Close-Deadline", 64), "RDN-Close-Deadline");
    expect(parseUint((2n ** 256n - 1n).toString(), F, 256)).toBe(2n ** 256n - 1n);
    expectMalformed(() => parseUint((2n ** 256n).toString(), F, 256), F);
  });

  it("is formatted back by formatUint", () => {
    for (const v of [0n, 5n, 2n ** 192n - 1n]) expect(parseUint(formatUint(v), F)).toBe(v);
    expect(formatUint(15n)).toBe("15");
    expect(() => formatUint(-1n)).toThrow(RangeError);
  });
});

describe("parseOpenBlock", () => {
  it("accepts a uint32 and names RDN-Open-Block by default", () => {
    expect(parseOpenBlock("7")).toBe(7);
    expect(parseOpenBlock("0")).toBe(0);
    expect(parseOpenBlock("4294967295")).toBe(4294967295);
    expectMalformed(() => parseOpenBlock("4294967296"), "RDN-Open-Block");
    expectMalformed(() => parseOpenBlock("07"), "RDN-Open-Block");
    expectMalformed(() => parseOpenBlock("-7"), "RDN-Open-Block");
  });

  it("names the field it is given", () => {
    expectMalformed(() => parseOpenBlock("x", "openBlock"), "openBlock");
  });
});

describe("parseAddress", () => {
  const A = "RDN-Sender-Address";
  const checksummed = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

  it("accepts any case and returns the checksummed address", () => {
    expect(parseAddress(checksummed, A)).toBe(checksummed);
    expect(parseAddress(checksummed.toLowerCase(), A)).toBe(checksummed);
    expect(parseAddress(`0x${checksummed.slice(2).toUpperCase()}`, A)).toBe(checksummed);
    // a wrong checksum is not an error: addresses compare case-insensitively
    expect(parseAddress("0xF39fd6e51aad88F6F4ce6aB8827279cffFb92266", A)).toBe(checksummed);
  });

  it.each([
    ["empty", ""],
    ["0x only", "0x"],
    ["39 hex digits", `0x${"a".repeat(39)}`],
    ["41 hex digits", `0x${"a".repeat(41)}`],
    ["missing 0x", "f39Fd6e51aad88F6F4ce6aB8827279cffFb92266"],
    ["0X prefix", "0Xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"],
    ["non-hex", "0xg39Fd6e51aad88F6F4ce6aB8827279cffFb92266"],
    ["surrounding space", " 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"],
    ["trailing newline", "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\n"],
    ["ENS name", "vitalik.eth"],
  ])("refuses %s", (_name, value) => {
    expectMalformed(() => parseAddress(value, A), A);
  });
});

describe("parseSignature", () => {
  const S = "RDN-Balance-Signature";
  // anvil account 0's BalanceProof over the fixed vector of verify.test.ts
  const sig =
    "0xc3e578074e1cd43f2213307ff8a0f1a32eb71798d4eb2bd094a085bae97be0a301305869f7180ea164c307b93204656f2bd4bff5b7556e292b76d9a0380611461b";
  const rs = sig.slice(2, 130);
  const word = (n: bigint) => n.toString(16).padStart(64, "0");
  const r = sig.slice(2, 66);
  const s = sig.slice(66, 130);

  it("returns a valid signature lowercase with v in {27, 28}", () => {
    expect(parseSignature(sig, S)).toBe(sig);
    expect(parseSignature(`0x${rs.toUpperCase()}1B`, S)).toBe(sig);
    expect(parseSignature(`0x${rs}00`, S)).toBe(`0x${rs}1b`);
    expect(parseSignature(`0x${rs}01`, S)).toBe(`0x${rs}1c`);
    expect(parseSignature(`0x${rs}1c`, S)).toBe(`0x${rs}1c`);
    expect(parseSignature(`0x${r}${word(SECP256K1_HALF_N)}1b`, S)).toBe(`0x${r}${word(SECP256K1_HALF_N)}1b`);
  });

  it.each([
    ["empty", ""],
    ["0x only", "0x"],
    ["64 bytes", `0x${rs}`],
    ["129 hex digits", `0x${rs}1`],
    ["131 hex digits", `0x${rs}1b0`],
    ["66 bytes", `0x${rs}1b00`],
    ["missing 0x", `${rs}1b`],
    ["non-hex", `0x${rs.slice(0, -1)}z1b`],
    ["surrounding space", ` ${sig}`],
  ])("refuses the shape %s as malformed_header", (_name, value) => {
    expectMalformed(() => parseSignature(value, S), S);
  });

  it.each([
    ["v = 29", `0x${rs}1d`],
    ["v = 2", `0x${rs}02`],
    ["v = 255", `0x${rs}ff`],
    ["r = 0", `0x${word(0n)}${s}1b`],
    ["r = n", `0x${word(SECP256K1_N)}${s}1b`],
    ["r > n", `0x${"f".repeat(64)}${s}1b`],
    ["s = 0", `0x${r}${word(0n)}1b`],
    ["s = n", `0x${r}${word(SECP256K1_N)}1b`],
    ["s > n", `0x${r}${"f".repeat(64)}1b`],
    ["s = n/2 + 1 (high s)", `0x${r}${word(SECP256K1_HALF_N + 1n)}1b`],
    ["the high-s twin", `0x${r}${word(SECP256K1_N - BigInt(`0x${s}`))}1c`],
  ])("refuses %s as invalid_balance_proof", (_name, value) => {
    const e = thrown(() => parseSignature(value, S));
    expect(e.code).toBe("invalid_balance_proof");
    expect(e.status).toBe(402);
    expect(e.header).toBe(S);
  });
});

describe("parseSessionToken", () => {
  it("accepts 1 to 512 characters of base64url and '.'", () => {
    for (const t of ["a", "s1.0xabc.7.1700000000.AbC-_09", "x".repeat(512)]) expect(parseSessionToken(t)).toBe(t);
  });

  it.each([
    ["empty", ""],
    ["513 chars", "x".repeat(513)],
    ["space", "ab cd"],
    ["plus", "ab+cd"],
    ["slash", "ab/cd"],
    ["padding", "abcd=="],
    ["unicode", "é"],
  ])("refuses %s", (_name, value) => {
    expectMalformed(() => parseSessionToken(value), "RDN-Session");
  });
});

describe("parsePaymentHeaders", () => {
  const sender = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
  const signature =
    "0xc3e578074e1cd43f2213307ff8a0f1a32eb71798d4eb2bd094a085bae97be0a301305869f7180ea164c307b93204656f2bd4bff5b7556e292b76d9a0380611461b";
  const proof = {
    "RDN-Sender-Address": sender.toLowerCase(),
    "RDN-Open-Block": "7",
    "RDN-Balance": "15",
    "RDN-Balance-Signature": signature,
  };
  const getter = (init: Record<string, string>) => {
    const h = new Headers(init);
    return (name: string) => h.get(name);
  };

  it("returns null when no payment header is present", () => {
    expect(parsePaymentHeaders(getter({}))).toBeNull();
    expect(parsePaymentHeaders(getter({ "RDN-Price": "5", Accept: "text/html" }))).toBeNull();
    expect(parsePaymentHeaders(() => undefined)).toBeNull();
  });

  it("reads a complete proof", () => {
    expect(parsePaymentHeaders(getter(proof))).toEqual({
      kind: "proof",
      sender,
      openBlock: 7,
      balance: 15n,
      signature,
    });
  });

  it("reads header names case-insensitively through Headers", () => {
    const lower = Object.fromEntries(Object.entries(proof).map(([k, v]) => [k.toLowerCase(), v]));
    expect(parsePaymentHeaders(getter(lower))?.kind).toBe("proof");
  });

  it.each(Object.keys(proof))("names the missing %s of a partial proof", (missing) => {
    const partial = { ...proof } as Record<string, string>;
    delete partial[missing];
    expectMalformed(() => parsePaymentHeaders(getter(partial)), missing);
  });

  it("names the first missing header when only some proof headers are sent", () => {
    expectMalformed(() => parsePaymentHeaders(getter({ "RDN-Balance-Signature": signature })), "RDN-Sender-Address");
    expectMalformed(
      () => parsePaymentHeaders(getter({ "RDN-Sender-Address": sender, "RDN-Open-Block": "7" })),
      "RDN-Balance",
    );
    expectMalformed(() => parsePaymentHeaders(getter({ "RDN-Balance": "15" })), "RDN-Sender-Address");
  });

  it("treats a present but empty header as malformed", () => {
    expectMalformed(() => parsePaymentHeaders(getter({ ...proof, "RDN-Balance": "" })), "RDN-Balance");
    expectMalformed(() => parsePaymentHeaders((n) => (n === "RDN-Session" ? "" : null)), "RDN-Session");
  });

  it("names the malformed header of a complete proof", () => {
    expectMalformed(() => parsePaymentHeaders(getter({ ...proof, "RDN-Balance": "1e3" })), "RDN-Balance");
    expectMalformed(() => parsePaymentHeaders(getter({ ...proof, "RDN-Open-Block": "0x7" })), "RDN-Open-Block");
    expectMalformed(
      () => parsePaymentHeaders(getter({ ...proof, "RDN-Sender-Address": sender.slice(0, -1) })),
      "RDN-Sender-Address",
    );
    expectMalformed(
      () => parsePaymentHeaders(getter({ ...proof, "RDN-Balance-Signature": signature.slice(0, -2) })),
      "RDN-Balance-Signature",
    );
  });

  it("reads a session payment, with the channel when given", () => {
    expect(parsePaymentHeaders(getter({ "RDN-Session": "s1.abc.7.99.sig" }))).toEqual({
      kind: "session",
      token: "s1.abc.7.99.sig",
    });
    expect(
      parsePaymentHeaders(
        getter({ "RDN-Session": "tok", "RDN-Sender-Address": sender.toLowerCase(), "RDN-Open-Block": "7" }),
      ),
    ).toEqual({ kind: "session", token: "tok", sender, openBlock: 7 });
    expect(parsePaymentHeaders(getter({ "RDN-Session": "tok", "RDN-Open-Block": "7" }))).toEqual({
      kind: "session",
      token: "tok",
      openBlock: 7,
    });
    expectMalformed(() => parsePaymentHeaders(getter({ "RDN-Session": "to ken" })), "RDN-Session");
    expectMalformed(
      () => parsePaymentHeaders(getter({ "RDN-Session": "tok", "RDN-Open-Block": "-1" })),
      "RDN-Open-Block",
    );
  });

  it("prefers a proof over a session", () => {
    expect(parsePaymentHeaders(getter({ ...proof, "RDN-Session": "tok" }))?.kind).toBe("proof");
    // the session is ignored entirely, even if malformed
    expect(parsePaymentHeaders(getter({ ...proof, "RDN-Session": "not a token" }))?.kind).toBe("proof");
    // a balance makes it a proof, so its missing parts are reported
    expectMalformed(
      () => parsePaymentHeaders(getter({ "RDN-Session": "tok", "RDN-Balance": "15" })),
      "RDN-Sender-Address",
    );
  });

  it("round-trips encodeProofHeaders and encodeSessionHeaders", () => {
    const p = { sender, openBlock: 7, balance: 2n ** 192n - 1n, signature } as const;
    const headers = encodeProofHeaders(p);
    expect(headers).toEqual({
      "RDN-Sender-Address": sender,
      "RDN-Open-Block": "7",
      "RDN-Balance": "6277101735386680763835789423207666416102355444464034512895",
      "RDN-Balance-Signature": signature,
    });
    expect(parsePaymentHeaders(getter(headers))).toEqual({ kind: "proof", ...p });
    const session = encodeSessionHeaders({ token: "tok", sender, openBlock: 7 });
    expect(session).toEqual({ "RDN-Session": "tok", "RDN-Sender-Address": sender, "RDN-Open-Block": "7" });
    expect(parsePaymentHeaders(getter(session))).toEqual({ kind: "session", token: "tok", sender, openBlock: 7 });
    expect(encodeSessionHeaders({ token: "tok" })).toEqual({ "RDN-Session": "tok" });
  });
});

// The channel state's storage text: the replacer-free encoder writes exactly what the former
// `JSON.stringify(s, bigint replacer)` wrote (so old rows and new rows are one format), and the
// decoder reads it back to an equal state.
import { describe, expect, it } from "vitest";
import type { Hex } from "viem";
import { decodeState, encodeState } from "./codec.js";
import { DEFAULT_MAX_SERVING_MS, RESERVATION_MARGIN_MS, newChannelState, type ChannelState } from "./state.js";

const replacerEncode = (s: unknown) => JSON.stringify(s, (_k, v) => (typeof v === "bigint" ? `${v}n` : v));
const sig = `0x${"ab".repeat(65)}` as Hex;

function busyState(): ChannelState {
  const s = newChannelState("0x1234567890AbcdEF1234567890aBcdef12345678", 42, { deposit: 10n ** 30n, withdrawn: 0n, settleBlock: 0, closingBalance: 0n }, 1_700_000_000_000);
  return {
    ...s,
    balance: 12_345n,
    balanceSig: sig,
    charged: 12_000n,
    withdrawable: { balance: 11_990n, signature: sig },
    pending: Array.from({ length: 32 }, (_, i) => ({ balance: 12_000n + BigInt(i), signature: sig })),
    reservations: { "a-b": { amount: 5n, expiresAt: 1_700_000_090_000 }, c: { amount: 0n, expiresAt: 1_700_000_001_000 } },
    flow: { level: 12.5, at: 1, retryAt: 0, early: 0, frozenUntil: 0, served: 3, refused: 1 },
    closingBalance: 7n,
    settleBlock: 99,
  };
}

describe("encodeState / decodeState", () => {
  it("writes the same text as the bigint replacer did", () => {
    const s = busyState();
    expect(encodeState(s)).toBe(replacerEncode(s));
    const fresh = newChannelState("0x1234567890AbcdEF1234567890aBcdef12345678", 0, { deposit: 1n, withdrawn: 0n, settleBlock: 0, closingBalance: 0n }, 0);
    expect(encodeState(fresh)).toBe(replacerEncode(fresh));
    const withUndefined = { ...s, flow: undefined };
    expect(encodeState(withUndefined)).toBe(replacerEncode(withUndefined));
  });

  it("reads back what it wrote, and rows written by the replacer encoder", () => {
    const s = busyState();
    expect(decodeState(encodeState(s))).toEqual(s);
    expect(decodeState(replacerEncode(s))).toEqual(s);
  });

  it("reads a state stored before reservations expired (id -> amount) without losing any", () => {
    const s = { ...busyState(), updatedAt: 1_700_000_500_000 };
    const old = replacerEncode({ ...s, reservations: { "a-b": 5n, c: 0n } });
    const read = decodeState(old);
    const expiresAt = s.updatedAt + DEFAULT_MAX_SERVING_MS + RESERVATION_MARGIN_MS;
    expect(read).toEqual({ ...s, reservations: { "a-b": { amount: 5n, expiresAt }, c: { amount: 0n, expiresAt } } });
    // Read once, written in the new shape, read again: the same state.
    expect(decodeState(encodeState(read))).toEqual(read);
  });
});

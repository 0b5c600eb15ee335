// Serialises a ChannelState to JSON text for the object's storage and back (bigints as
// decimal strings), and projects it to the public snapshot the Worker turns into headers.
import type { Address, Hex } from "viem";
import { credit, type ChannelState, type ChannelStatus } from "./state.js";

/** The JSON text of a state: bigints as `"<decimal>n"`, everything else as JSON.stringify
 *  writes it. The bigints are converted in one pass first, so the stringify runs without a
 *  replacer callback per value (the text is the same as with one). */
export function encodeState(s: ChannelState): string {
  return JSON.stringify(plain(s));
}

function plain(v: unknown): unknown {
  if (typeof v === "bigint") return `${v}n`;
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = plain(v[i]);
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = plain((v as Record<string, unknown>)[k]);
  return out;
}

export function decodeState(text: string): ChannelState {
  return JSON.parse(text, (_k, v) => (typeof v === "string" && /^[0-9]+n$/.test(v) ? BigInt(v.slice(0, -1)) : v));
}

/** What the Worker and the management API see of a channel. */
export type ChannelSnapshot = {
  sender: Address;
  openBlock: number;
  state: ChannelStatus;
  deposit: bigint;
  balance: bigint;
  balanceSig: Hex | null;
  charged: bigint;
  credit: bigint;
  withdrawn: bigint;
  withdrawable: bigint;
  closeRequested: boolean;
  closingBalance: bigint | null;
  settleBlock: number | null;
};

export function snapshot(s: ChannelState): ChannelSnapshot {
  return {
    sender: s.sender,
    openBlock: s.openBlock,
    state: s.status,
    deposit: s.deposit,
    balance: s.balance,
    balanceSig: s.balanceSig,
    charged: s.charged,
    credit: credit(s),
    withdrawn: s.withdrawn,
    withdrawable: s.withdrawable?.balance ?? s.withdrawn,
    closeRequested: s.closeRequested,
    closingBalance: s.closingBalance,
    settleBlock: s.settleBlock,
  };
}

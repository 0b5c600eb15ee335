// Serialises a ChannelState to JSON text for the object's storage and back (bigints as
// decimal strings), and projects it to the public snapshot the Worker turns into headers.
import type { Address, Hex } from "viem";
import { credit, type ChannelState, type ChannelStatus } from "./state.js";

export function encodeState(s: ChannelState): string {
  return JSON.stringify(s, (_k, v) => (typeof v === "bigint" ? `${v}n` : v));
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

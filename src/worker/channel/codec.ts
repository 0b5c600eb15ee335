// Serialises a ChannelState to JSON text for the object's storage and back (bigints as
// decimal strings), and projects it to the public snapshot the Worker turns into headers.
// States stored by earlier versions decode without loss (see decodeReservations).
import type { Address, Hex } from "viem";
import { credit, DEFAULT_MAX_SERVING_MS, RESERVATION_MARGIN_MS, type ChannelState, type ChannelStatus, type Reservation } from "./state.js";

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
  const s = JSON.parse(text, (_k, v) => (typeof v === "string" && /^[0-9]+n$/.test(v) ? BigInt(v.slice(0, -1)) : v)) as ChannelState;
  return { ...s, reservations: decodeReservations(s) };
}

/** Reservations as stored now, or as stored before they expired (`id -> amount`): those keep
 *  their amount and expire the longest default serving time (plus the margin) after the
 *  state's last change, which is no earlier than when they were taken. */
function decodeReservations(s: ChannelState): Record<string, Reservation> {
  const out: Record<string, Reservation> = {};
  for (const [id, r] of Object.entries(s.reservations ?? {}) as Array<[string, Reservation | bigint]>) {
    out[id] = typeof r === "bigint" ? { amount: r, expiresAt: s.updatedAt + DEFAULT_MAX_SERVING_MS + RESERVATION_MARGIN_MS } : r;
  }
  return out;
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

// What a channel object tells the D1 projection: its `channels` row as the object holds it,
// stamped with its version (the object's change counter) so a late or repeated message never
// overwrites a newer row, and with when it was sent, so the consumer can tell how far D1 lags.
// Plain JSON (amounts as decimal strings): it crosses a Cloudflare Queue.
import { channelId } from "../../protocol/channel-key.js";
import type { ChannelState } from "../channel/state.js";
import type { channels } from "../db/schema.js";

/** One `channels` row, as a queue message carries it. */
export type ProjectionRow = typeof channels.$inferInsert & { version: number; createdAt: number; updatedAt: number };

/** A channel's projection: its row and when the object sent it (ms). */
export type ProjectionMessage = { row: ProjectionRow; sentAt: number };

/** The `channels` row of a channel state. */
export function projectionRow(s: ChannelState): ProjectionRow {
  return {
    id: channelId(s.sender, s.openBlock),
    sender: s.sender.toLowerCase(),
    openBlock: s.openBlock,
    state: s.status,
    deposit: s.deposit.toString(),
    balance: s.balance.toString(),
    charged: s.charged.toString(),
    withdrawn: s.withdrawn.toString(),
    withdrawable: (s.withdrawable?.balance ?? s.withdrawn).toString(),
    closingBalance: s.closingBalance?.toString() ?? null,
    settleBlock: s.settleBlock,
    closeRequested: s.closeRequested,
    payments: s.payments,
    lastPaymentAt: s.lastPaymentAt ?? null,
    chainReadBlock: s.readBlock ?? null,
    version: s.version,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

const STATES = new Set(["open", "closing", "settled", "removed"]);
const isDecimal = (v: unknown) => typeof v === "string" && /^[0-9]{1,78}$/.test(v);
const isCount = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isOptional = (v: unknown, check: (v: unknown) => boolean) => v === null || v === undefined || check(v);

/** The message when `body` is one (a queue carries whatever was sent to it), else null. */
export function readProjectionMessage(body: unknown): ProjectionMessage | null {
  if (typeof body !== "object" || body === null) return null;
  const { row, sentAt } = body as { row?: Record<string, unknown>; sentAt?: unknown };
  if (typeof row !== "object" || row === null || !isCount(sentAt)) return null;
  const ok =
    typeof row.id === "string" &&
    typeof row.sender === "string" &&
    STATES.has(row.state as string) &&
    [row.deposit, row.balance, row.charged, row.withdrawn, row.withdrawable].every(isDecimal) &&
    isOptional(row.closingBalance, isDecimal) &&
    [row.openBlock, row.payments, row.version, row.createdAt, row.updatedAt].every(isCount) &&
    isOptional(row.settleBlock, isCount) &&
    isOptional(row.chainReadBlock, isCount) &&
    isOptional(row.lastPaymentAt, isCount) &&
    typeof row.closeRequested === "boolean";
  return ok ? { row: row as ProjectionRow, sentAt: sentAt as number } : null;
}

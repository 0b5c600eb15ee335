// The Overview view: what the receiver earned, withdrew and can withdraw now, the credit senders
// hold, the channels by state and the payments of the last hour and day, from
// GET /api/1/admin/overview, read again every few seconds.
import { h } from "./dom.js";
import { amount } from "./format.js";
import { amountCard, card, REFRESH_MS, type View } from "./view.js";

/** GET /api/1/admin/overview. */
export type Overview = {
  earned: string;
  withdrawn: string;
  withdrawableNow: string;
  outstandingCredit: string;
  deposits: string;
  channels: { open: number; closing: number; settled: number; removed: number };
  payments: { lastHour: number; lastDay: number } | null;
  note: string;
};

export const overviewView: View = async (ctx) => {
  const draw = async () => {
    const o = await ctx.api.get<Overview>("/overview");
    const money = (label: string, id: string, value: string) => amountCard(label, id, amount(value, ctx.token));
    ctx.show(
      h("h2", {}, "Overview"),
      h(
        "div",
        { class: "cards" },
        money("Earned", "overview-earned", o.earned),
        money("Withdrawn", "overview-withdrawn", o.withdrawn),
        money("Withdrawable now", "overview-withdrawable", o.withdrawableNow),
        money("Outstanding credit", "overview-credit", o.outstandingCredit),
        money("Deposits", "overview-deposits", o.deposits),
      ),
      h("h3", {}, "Channels"),
      h(
        "div",
        { class: "cards" },
        card("Open", "overview-open", String(o.channels.open)),
        card("Closing", "overview-closing", String(o.channels.closing)),
        card("Settled", "overview-settled", String(o.channels.settled)),
        o.channels.removed > 0 ? card("Removed by a reorg", "overview-removed", String(o.channels.removed)) : null,
      ),
      h("h3", {}, "Payments"),
      h(
        "div",
        { class: "cards" },
        card("Last hour", "overview-payments-hour", o.payments ? String(o.payments.lastHour) : "unknown"),
        card("Last 24 hours", "overview-payments-day", o.payments ? String(o.payments.lastDay) : "unknown"),
      ),
      h("p", { class: "muted" }, o.note),
    );
  };
  await draw();
  ctx.every(REFRESH_MS, draw);
};

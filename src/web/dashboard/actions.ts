// The Actions view: withdraw the earnings of every channel that holds at least a minimum
// (POST /api/1/admin/withdraw), settle the closes whose challenge has ended (POST .../settle),
// and run a chain sync now (POST .../sync), each after a confirmation, each showing the
// transactions it sent; below, the receiver's latest transactions, read again every few seconds
// so a sent one is seen to confirm.
import { parseAmount } from "../../protocol/amount.js";
import { h, replace } from "./dom.js";
import { amountText } from "./format.js";
import { confirmAction } from "./confirm.js";
import type { SyncView } from "./chain.js";
import { receiverTxsTable, txAnswer, type TxAnswer } from "./tx-answer.js";
import { errorLine, REFRESH_MS, type View, type ViewContext } from "./view.js";

/** POST /api/1/admin/sync's answer, the parts shown. */
type SyncReport = {
  ran: boolean;
  reason?: string;
  fromBlock: number | null;
  toBlock: number | null;
  events: number;
  error: string | null;
  settlement: { disputes: unknown[]; settles: unknown[]; withdrawals: unknown[] } | null;
};

function syncSummary(r: SyncReport): Node {
  if (!r.ran) return h("p", { class: "muted" }, `The sync did not run: ${r.reason ?? "another run holds the lease"}.`);
  const range = r.fromBlock === null ? "no new block" : `blocks ${r.fromBlock} to ${r.toBlock}`;
  const sent = r.settlement
    ? r.settlement.disputes.length + r.settlement.settles.length + r.settlement.withdrawals.length
    : 0;
  return h(
    "div",
    {},
    h(
      "p",
      { class: r.error ? "error" : "ok" },
      `Synced ${range}: ${r.events} event(s) applied, ${sent} settlement intent(s).`,
    ),
    r.error ? h("p", { role: "alert" }, r.error) : null,
  );
}

function withdrawAction(ctx: ViewContext): HTMLElement {
  const minimum = h("input", {
    id: "withdraw-minimum",
    inputmode: "numeric",
    value: "1",
    "aria-label": "Minimum, in base units",
    size: 24,
  });
  return h(
    "section",
    { class: "action" },
    h("h3", {}, "Withdraw earnings now"),
    h(
      "p",
      { class: "muted" },
      "Withdraws every channel whose withdrawable, not yet withdrawn earnings reach the minimum (in base units of the token). Unspent credit stays refundable.",
    ),
    h("label", { for: "withdraw-minimum" }, "Minimum (base units) "),
    minimum,
    confirmAction(ctx, {
      id: "withdraw",
      label: "Withdraw…",
      question: () => {
        const v = minimum.value.trim();
        if (parseAmount(v) === null) return new Error("The minimum must be a whole number of base units.");
        return `Withdraw every channel's earnings of at least ${amountText(v, ctx.token)} (${v} base units)?`;
      },
      run: () => ctx.api.post<TxAnswer>("/withdraw", { minimum: minimum.value.trim() }),
      render: (a) => txAnswer(a, ctx.token),
    }),
  );
}

export const actionsView: View = async (ctx) => {
  const recent = h("div", {});
  ctx.show(
    h("h2", {}, "Actions"),
    withdrawAction(ctx),
    h(
      "section",
      { class: "action" },
      h("h3", {}, "Settle due channels"),
      h(
        "p",
        { class: "muted" },
        "Settles the honest closes whose challenge period has ended (the cron does this too).",
      ),
      confirmAction(ctx, {
        id: "settle",
        label: "Settle…",
        question: "Settle every close whose challenge period has ended?",
        run: () => ctx.api.post<TxAnswer>("/settle"),
        render: (a) => txAnswer(a, ctx.token),
      }),
    ),
    h(
      "section",
      { class: "action" },
      h("h3", {}, "Run a sync"),
      h(
        "p",
        { class: "muted" },
        "Reads the contract's new events now, disputes and settles what is due (the cron does this too).",
      ),
      confirmAction(ctx, {
        id: "sync",
        label: "Sync now…",
        question: "Run a chain sync now?",
        run: () => ctx.api.post<SyncReport>("/sync"),
        render: syncSummary,
      }),
    ),
    h("h3", {}, "Receiver transactions"),
    recent,
  );
  const draw = async () => {
    try {
      const s = await ctx.api.get<SyncView>("/sync");
      if (ctx.alive()) replace(recent, receiverTxsTable(s.receiverTxs, ctx.token));
    } catch (err) {
      if (ctx.alive()) replace(recent, errorLine(err));
    }
  };
  await draw();
  ctx.every(REFRESH_MS, draw);
};

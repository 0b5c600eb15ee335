// One channel's detail (#channel/<sender>/<openBlock>): the channel as its Durable Object holds
// it (GET /api/1/admin/channels/{sender}/{openBlock}) beside its D1 row, and, when the sender has
// asked to close, the receiver's cooperative close on chain (POST .../close), after a confirmation.
import { h, replace } from "./dom.js";
import { address, amount, when } from "./format.js";
import { confirmAction } from "./confirm.js";
import { type ChannelRow, shownState } from "./channels.js";
import { txAnswer, type TxAnswer } from "./tx-answer.js";
import { REFRESH_MS, type View } from "./view.js";

/** GET /api/1/admin/channels/{sender}/{openBlock}. */
type ChannelDetail = {
  channel: {
    sender: string;
    openBlock: number;
    state: string;
    deposit: string;
    balance: string;
    charged: string;
    credit: string;
    withdrawn: string;
    closeRequested: boolean;
    settleBlock?: number;
    closingBalance?: string;
  } | null;
  withdrawable: string;
  pendingProofs: number;
  payments: number;
  /** When the object last accepted a payment (ms), null before the first. */
  lastPaymentAt: number | null;
  openReservations: number;
  projection: ChannelRow | null;
};

export const channelView: View = async (ctx) => {
  const [sender = "", openBlock = ""] = ctx.args;
  const path = `/channels/${encodeURIComponent(sender)}/${encodeURIComponent(openBlock)}`;
  const details = h("dl", { id: "channel-detail" });
  const actions = h("div", {});
  ctx.show(h("p", {}, h("a", { href: "#channels" }, "← Channels")), h("h2", {}, "Channel"), details, actions);
  const draw = async () => {
    const d = await ctx.api.get<ChannelDetail>(path);
    if (!ctx.alive()) return;
    const ch = d.channel;
    const row = (label: string, value: Node | string | null) => [h("dt", {}, label), h("dd", {}, value ?? "—")];
    const money = (v: string | undefined) => (v === undefined ? null : amount(v, ctx.token));
    replace(
      details,
      ...row("Sender", address(ch?.sender ?? sender)),
      ...row("Open block", String(ch?.openBlock ?? openBlock)),
      ...row("State", ch ? shownState({ state: ch.state, closeRequested: ch.closeRequested }) : "unknown"),
      ...row("Deposit", money(ch?.deposit)),
      ...row("Balance (signed)", money(ch?.balance)),
      ...row("Charged", money(ch?.charged)),
      ...row("Credit", money(ch?.credit)),
      ...row("Withdrawn", money(ch?.withdrawn)),
      ...row("Withdrawable", money(d.withdrawable)),
      ...row("Closing balance", money(ch?.closingBalance)),
      ...row("Settle block", ch?.settleBlock === undefined ? null : String(ch.settleBlock)),
      ...row("Payments", String(d.payments)),
      ...row("Last payment", when(d.lastPaymentAt)),
      ...row("Proofs waiting for charges", String(d.pendingProofs)),
      ...row("Open metered reservations", String(d.openReservations)),
      ...row("D1 row updated", when(d.projection?.updatedAt ?? null)),
    );
    // The sender asked to close: the receiver may close on chain now (offered once).
    if (ch?.closeRequested && ch.state !== "settled" && actions.childElementCount === 0) {
      actions.appendChild(
        confirmAction(ctx, {
          id: "channel-close",
          label: "Close on chain",
          question: "Send cooperativeClose for this channel at the charged total?",
          run: () => ctx.api.post<TxAnswer>(`${path}/close`),
          render: (a) => txAnswer(a, ctx.token),
        }),
      );
    }
  };
  await draw();
  ctx.every(REFRESH_MS, draw);
};

// What an admin action answered, on the page: every transaction it sent (with its hash), the
// intents an earlier transaction already covers, the refusals with their reasons, and the alert
// (the receiver lacks gas, say). The withdraw, settle and close actions answer this shape.
import { h } from "./dom.js";
import { address, amount, txHash, when, type Token } from "./format.js";
import { table } from "./view.js";

export type Outcome = {
  kind: string;
  sender: string;
  openBlock: number;
  balance: string;
  result: "sent" | "covered" | "refused";
  tx?: { hash: string; status: string };
  reason?: string;
};

export type TxAnswer = { sent: Outcome[]; covered: Outcome[]; refused: Outcome[]; alert: string | null };

/** The outcomes as a table: result, kind, channel, amount, and the transaction or the reason. */
export function outcomesTable(outcomes: Outcome[], token: Token, empty: string): HTMLElement {
  return table(
    ["Result", "Kind", "Sender", "#Open block", "#Amount", "Transaction"],
    outcomes.map((o) => ({
      attrs: { "data-result": o.result, ...(o.tx ? { "data-tx": o.tx.hash } : {}) },
      cells: [
        o.result,
        o.kind,
        address(o.sender, true),
        String(o.openBlock),
        amount(o.balance, token),
        o.tx ? h("span", {}, txHash(o.tx.hash), ` ${o.tx.status}`) : (o.reason ?? ""),
      ],
    })),
    empty,
  );
}

/** The answer of an action that sends transactions. */
export function txAnswer(a: TxAnswer, token: Token = null): Node {
  const all = [...a.sent, ...a.covered, ...a.refused];
  return h(
    "div",
    {},
    h(
      "p",
      { class: a.sent.length > 0 ? "ok" : "muted" },
      `${a.sent.length} transaction(s) sent, ${a.covered.length} already covered, ${a.refused.length} refused.`,
    ),
    a.alert ? h("p", { role: "alert" }, `Alert: ${a.alert}`) : null,
    outcomesTable(all, token, "Nothing was due."),
  );
}

/** A row of `receiverTxs` in GET /api/1/admin/sync (the receiver's transactions, newest first). */
export type ReceiverTx = {
  hash: string;
  kind: string;
  sender: string;
  open_block: number;
  amount: string;
  status: string;
  attempts: number;
  error: string | null;
  updated_at: number;
};

/** The receiver's latest transactions as a table. */
export function receiverTxsTable(rows: ReceiverTx[], token: Token): HTMLElement {
  return table(
    ["Transaction", "Kind", "Sender", "#Open block", "#Amount", "Status", "#Attempts", "Updated"],
    rows.map((t) => ({
      attrs: { "data-tx": t.hash, "data-status": t.status },
      cells: [
        txHash(t.hash),
        t.kind,
        address(t.sender, true),
        String(t.open_block),
        amount(t.amount, token),
        t.error ? h("span", { title: t.error }, t.status) : t.status,
        String(t.attempts),
        when(t.updated_at),
      ],
    })),
    "The receiver has sent no transaction yet.",
  );
}

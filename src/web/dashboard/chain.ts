// The Chain view: the sync's cursor against the chain's head (how far behind, reorgs, the last
// error), the receiver's gas and token balances and pending transactions, the alerts, the
// dispute queue and the receiver's latest transactions, from GET /api/1/admin/sync and
// GET /api/1/admin/chain, read again every few seconds.
import { h } from "./dom.js";
import { address, amount, ether, when } from "./format.js";
import { receiverTxsTable, type ReceiverTx } from "./tx-answer.js";
import { card, REFRESH_MS, table, type View } from "./view.js";

/** GET /api/1/admin/sync, the parts shown. */
export type SyncView = {
  sync: {
    syncedBlock: number;
    syncedBlockHash: string | null;
    headBlock: number | null;
    behind: number | null;
    eventsApplied: number;
    reorgs: number;
    lastRunAt: number | null;
    lastError: string | null;
    lastErrorAt: number | null;
    running: boolean;
  } | null;
  disputeQueue: Record<string, number>;
  receiverTxs: ReceiverTx[];
};

/** GET /api/1/admin/chain. */
type ChainView = {
  receiver: {
    address: string;
    gasBalance: string | null;
    tokenBalance: string | null;
    headBlock: number | null;
    error: string | null;
    pendingTransactions: number;
    alert: string | null;
    alertAt: number | null;
  };
  disputes: Array<{
    sender: string;
    openBlock: number;
    closingBalance: string;
    settleBlock: number;
    status: string;
    attempts: number;
    lastError: string | null;
  }>;
};

function alerts(s: SyncView, c: ChainView): HTMLElement {
  const items: HTMLElement[] = [];
  if (c.receiver.alert) items.push(h("li", {}, `Receiver: ${c.receiver.alert} `, when(c.receiver.alertAt)));
  if (s.sync?.lastError) items.push(h("li", {}, `Sync: ${s.sync.lastError} `, when(s.sync.lastErrorAt)));
  if (c.receiver.error) items.push(h("li", {}, `The chain node did not answer: ${c.receiver.error}`));
  if (items.length === 0) return h("p", { id: "chain-alerts", class: "ok" }, "No alerts.");
  return h("ul", { id: "chain-alerts", role: "alert" }, ...items);
}

function syncCards(s: SyncView, c: ChainView): HTMLElement {
  const sync = s.sync;
  const head = c.receiver.headBlock ?? sync?.headBlock ?? null;
  return h(
    "div",
    { class: "cards" },
    card(
      "Synced to block",
      "chain-cursor",
      sync ? String(sync.syncedBlock) : "not yet",
      sync?.syncedBlockHash
        ? h("code", { title: sync.syncedBlockHash }, `${sync.syncedBlockHash.slice(0, 10)}…`)
        : undefined,
    ),
    card("Chain head", "chain-head", head === null ? "unknown" : String(head)),
    card(
      "Behind (confirmed blocks)",
      "chain-behind",
      sync?.behind === null || sync === null ? "unknown" : String(sync.behind),
    ),
    card("Reorgs", "chain-reorgs", String(sync?.reorgs ?? 0)),
    card("Events applied", "chain-events", String(sync?.eventsApplied ?? 0)),
    card("Last run", "chain-last-run", when(sync?.lastRunAt ?? null), sync?.running ? "running now" : undefined),
  );
}

export const chainView: View = async (ctx) => {
  const draw = async () => {
    const [s, c] = await Promise.all([ctx.api.get<SyncView>("/sync"), ctx.api.get<ChainView>("/chain")]);
    const r = c.receiver;
    ctx.show(
      h("h2", {}, "Chain"),
      h("h3", {}, "Alerts"),
      alerts(s, c),
      h("h3", {}, "Sync"),
      syncCards(s, c),
      h("h3", {}, "Receiver"),
      h(
        "dl",
        { id: "chain-receiver" },
        h("dt", {}, "Address"),
        h("dd", {}, address(r.address)),
        h("dt", {}, "Gas balance"),
        h("dd", { id: "chain-gas" }, ether(r.gasBalance)),
        h("dt", {}, "Token balance"),
        h("dd", { id: "chain-tokens" }, amount(r.tokenBalance, ctx.token)),
        h("dt", {}, "Pending transactions"),
        h("dd", { id: "chain-pending" }, String(r.pendingTransactions)),
      ),
      h("h3", {}, "Dispute queue"),
      h(
        "p",
        { class: "muted" },
        Object.entries(s.disputeQueue)
          .map(([k, n]) => `${k}: ${n}`)
          .join(", ") || "Empty.",
      ),
      table(
        ["Sender", "#Open block", "#Closing balance", "#Settle block", "Status", "#Attempts", "Last error"],
        c.disputes.map((d) => ({
          cells: [
            address(d.sender, true),
            String(d.openBlock),
            amount(d.closingBalance, ctx.token),
            String(d.settleBlock),
            d.status,
            String(d.attempts),
            d.lastError ?? "",
          ],
        })),
        "No close request seen.",
      ),
      h("h3", {}, "Receiver transactions"),
      receiverTxsTable(s.receiverTxs, ctx.token),
    );
  };
  await draw();
  ctx.every(REFRESH_MS, draw);
};

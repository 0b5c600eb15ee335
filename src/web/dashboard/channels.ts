// The Channels view: the D1 projection's channels as a table, searched by (part of) the sender's
// address and filtered by state, 25 a page (GET /api/1/admin/channels with its cursor; the
// cursors of earlier pages are kept for "Previous"). A row opens the channel's detail. The page
// shown is read again every few seconds, keeping the search.
import { h, replace } from "./dom.js";
import { address, amount, when } from "./format.js";
import { errorLine, REFRESH_MS, table, type View, type ViewContext } from "./view.js";

/** A row of GET /api/1/admin/channels (the D1 projection). */
export type ChannelRow = {
  id: string;
  sender: string;
  openBlock: number;
  state: "open" | "closing" | "settled" | "removed";
  deposit: string;
  balance: string;
  charged: string;
  closeRequested: boolean;
  payments: number;
  /** When the channel last took a payment (ms), null before the first. */
  lastPaymentAt: number | null;
  updatedAt: number;
};

const PAGE_SIZE = 25;
const STATES = ["", "open", "closing", "settled", "removed"];

/** The state an operator reads: a sender's close request makes an open channel closing. */
export const shownState = (r: { state: string; closeRequested: boolean }) =>
  r.state === "open" && r.closeRequested ? "closing" : r.state;

function rowOf(r: ChannelRow, ctx: ViewContext) {
  const href = `channel/${r.sender}/${r.openBlock}`;
  return {
    href,
    attrs: { "data-sender": r.sender, "data-open-block": String(r.openBlock) },
    cells: [
      h("a", { href: `#${href}` }, address(r.sender, true)),
      String(r.openBlock),
      amount(r.deposit, ctx.token),
      amount(r.balance, ctx.token),
      amount(r.charged, ctx.token),
      amount(BigInt(r.balance) - BigInt(r.charged), ctx.token),
      shownState(r),
      String(r.payments),
      when(r.lastPaymentAt),
    ],
  };
}

const HEADINGS = [
  "Sender",
  "#Open block",
  "#Deposit",
  "#Balance",
  "#Charged",
  "#Credit",
  "State",
  "#Payments",
  "Last payment",
];

type Query = { search: string; state: string; cursors: string[] };

/** The search form: a hex fragment of the sender and a state; `onSearch` gets them. */
function searchForm(onSearch: (search: string, state: string) => void): HTMLElement {
  const search = h("input", {
    type: "search",
    name: "search",
    placeholder: "Sender address, or part of it",
    "aria-label": "Search by sender",
  });
  const state = h(
    "select",
    { name: "state", "aria-label": "State" },
    ...STATES.map((s) => h("option", { value: s }, s || "any state")),
  );
  const form = h(
    "form",
    { class: "toolbar", role: "search" },
    search,
    state,
    h("button", { type: "submit" }, "Search"),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    onSearch(search.value.trim(), state.value);
  });
  return form;
}

/** GET /channels for `query`'s current page. */
function pageOf(ctx: ViewContext, query: Query) {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (query.search) params.set("search", query.search);
  if (query.state) params.set("state", query.state);
  const cursor = query.cursors[query.cursors.length - 1];
  if (cursor) params.set("cursor", cursor);
  return ctx.api.get<{ channels: ChannelRow[]; nextCursor: string | null }>(`/channels?${params}`);
}

export const channelsView: View = async (ctx) => {
  const query: Query = { search: "", state: "", cursors: [""] };
  const list = h("div", {});
  const prev = h("button", { type: "button", class: "secondary" }, "Previous");
  const next = h("button", { type: "button", class: "secondary" }, "Next");
  const pageInfo = h("span", { class: "muted" });
  let nextCursor: string | null = null;
  const load = async () => {
    try {
      const page = await pageOf(ctx, query);
      if (!ctx.alive()) return;
      nextCursor = page.nextCursor;
      replace(
        list,
        table(
          HEADINGS,
          page.channels.map((r) => rowOf(r, ctx)),
          "No channel matches.",
        ),
      );
    } catch (err) {
      replace(list, errorLine(err));
    }
    prev.disabled = query.cursors.length <= 1;
    next.disabled = nextCursor === null;
    replace(pageInfo, `Page ${query.cursors.length}`);
  };
  const form = searchForm((search, state) => {
    Object.assign(query, { search, state, cursors: [""] });
    void load();
  });
  prev.addEventListener("click", () => {
    query.cursors.pop();
    void load();
  });
  next.addEventListener("click", () => {
    if (nextCursor) query.cursors.push(nextCursor);
    void load();
  });
  ctx.show(h("h2", {}, "Channels"), form, list, h("div", { class: "toolbar" }, prev, next, pageInfo));
  await load();
  ctx.every(REFRESH_MS, load);
};

// What every view of the dashboard gets and shares: the API, the token's display facts, the
// view's arguments from the URL's hash, a way to show its content (ignored once the person has
// moved to another view), timers that stop with the view, and the building blocks the views
// have in common (a figure card, a table, an error line).
import type { Api } from "./api.js";
import { h } from "./dom.js";
import type { Token } from "./format.js";

/** How often a view reads the API again while it is shown. */
export const REFRESH_MS = 5_000;

export type ViewContext = {
  api: Api;
  token: Token;
  /** The hash's parts after the view's name (`#channel/<sender>/<openBlock>`). */
  args: string[];
  /** Replaces the view's content, unless the person has left the view. */
  show(...nodes: Node[]): void;
  /** Calls `fn` every `ms` while the view is shown. */
  every(ms: number, fn: () => Promise<void>): void;
  /** True while this view is still the one shown. */
  alive(): boolean;
};

export type View = (ctx: ViewContext) => Promise<void>;

/** A figure: its label, its value, and an optional line under it. `id` names the value element. */
export function card(label: string, id: string, value: Node | string, sub?: Node | string): HTMLElement {
  return h(
    "div",
    { class: "card" },
    h("div", { class: "label" }, label),
    h("div", { class: "value", id }, value),
    sub ? h("div", { class: "base" }, sub) : null,
  );
}

/** An amount's card: the exact amount in token units, the base units under it. */
export function amountCard(label: string, id: string, amountEl: HTMLElement): HTMLElement {
  const base = amountEl.dataset.base;
  const sub = base === undefined || amountEl.textContent === `${base} base units` ? undefined : `${base} base units`;
  return card(label, id, amountEl, sub);
}

/** A table: headings (a leading "#" marks a numeric column) and rows of cells. */
export function table(
  headings: string[],
  rows: Array<{ cells: Array<Node | string>; href?: string; attrs?: Record<string, string> }>,
  empty = "Nothing yet.",
): HTMLElement {
  const numeric = headings.map((t) => t.startsWith("#"));
  const head = h(
    "tr",
    {},
    ...headings.map((t, i) => h("th", { class: numeric[i] ? "num" : null, scope: "col" }, t.replace(/^#/, ""))),
  );
  const body = rows.map((r) =>
    h(
      "tr",
      { "data-href": r.href, ...r.attrs },
      ...r.cells.map((cell, i) => h("td", { class: numeric[i] ? "num" : null }, cell)),
    ),
  );
  if (rows.length === 0) body.push(h("tr", {}, h("td", { colspan: headings.length, class: "muted" }, empty)));
  const tbody = h("tbody", {}, ...body);
  tbody.addEventListener("click", (e) => {
    const row = (e.target as Element).closest("tr[data-href]");
    if (row) location.hash = row.getAttribute("data-href")!;
  });
  return h("div", { class: "table" }, h("table", {}, h("thead", {}, head), tbody));
}

/** A line saying what went wrong. */
export function errorLine(err: unknown): HTMLElement {
  return h("p", { role: "alert" }, (err as Error).message ?? String(err));
}

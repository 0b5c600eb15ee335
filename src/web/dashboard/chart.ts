// Line charts as inline SVG, drawn by hand: one minute per point, a y axis from zero to a round
// maximum, time ticks every few hours, a legend with each series' total, and a read-out of the
// minute under the pointer (or finger). The SVG scales to its container, so it reads on a phone.
// Each series' polyline carries `data-sum` and `data-last`, the figures it was drawn from.
import { h, replace } from "./dom.js";

export type Series = { name: string; color: string; values: number[] };

const W = 720;
const H = 220;
const PAD = { left: 52, right: 12, top: 12, bottom: 26 };
const PLOT_W = W - PAD.left - PAD.right;
const PLOT_H = H - PAD.top - PAD.bottom;

/** The smallest of 1, 2, 5 × 10^k that is at least `v` (at least 1). */
export function niceMax(v: number): number {
  if (!(v > 1)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

const short = (n: number) =>
  n >= 1e9
    ? `${+(n / 1e9).toPrecision(3)}G`
    : n >= 1e6
      ? `${+(n / 1e6).toPrecision(3)}M`
      : n >= 1e4
        ? `${+(n / 1e3).toPrecision(3)}k`
        : String(+n.toPrecision(4));

/** A series' total, in full (counts and base units are whole numbers). */
const total = (s: Series) => String(s.values.reduce((a, b) => a + b, 0));

const hhmm = (ms: number) => new Date(ms).toTimeString().slice(0, 5);

function axes(times: number[], max: number): Element[] {
  const out: Element[] = [];
  for (const f of [0, 0.5, 1]) {
    const y = PAD.top + PLOT_H * (1 - f);
    out.push(h("line", { class: "grid", x1: PAD.left, x2: W - PAD.right, y1: y, y2: y }));
    out.push(h("text", { x: PAD.left - 6, y: y + 4, "text-anchor": "end" }, short(max * f)));
  }
  const n = times.length;
  const step = Math.max(1, Math.round(n / 8 / 60) * 60); // about eight ticks, on whole hours
  for (let i = 0; i < n; i++) {
    if (n > 1 && (times[i]! / 60_000) % step !== 0) continue;
    const x = PAD.left + (n > 1 ? (i / (n - 1)) * PLOT_W : 0);
    out.push(h("text", { x, y: H - 8, "text-anchor": "middle" }, hhmm(times[i]!)));
  }
  return out;
}

function line(s: Series, max: number): Element {
  const n = s.values.length;
  const points = s.values
    .map(
      (v, i) =>
        `${(PAD.left + (n > 1 ? (i / (n - 1)) * PLOT_W : 0)).toFixed(1)},${(PAD.top + PLOT_H * (1 - v / max)).toFixed(1)}`,
    )
    .join(" ");
  return h("polyline", {
    class: "line",
    points,
    stroke: s.color,
    "data-name": s.name,
    "data-sum": total(s),
    "data-last": s.values[n - 1] ?? 0,
  });
}

/** Follows the pointer: a vertical cursor and the figures of the minute under it. */
function pointer(svg: Element, cursor: Element, readout: HTMLElement, times: number[], series: Series[]) {
  const show = (e: PointerEvent) => {
    const box = svg.getBoundingClientRect();
    const x = ((e.clientX - box.left) / box.width) * W;
    const i = Math.round(((x - PAD.left) / PLOT_W) * (times.length - 1));
    if (i < 0 || i >= times.length) return;
    const cx = PAD.left + (i / Math.max(1, times.length - 1)) * PLOT_W;
    cursor.setAttribute("x1", String(cx));
    cursor.setAttribute("x2", String(cx));
    cursor.setAttribute("visibility", "visible");
    readout.textContent = `${hhmm(times[i]!)}: ${series.map((s) => `${s.name} ${s.values[i]}`).join(", ")}`;
  };
  svg.addEventListener("pointermove", show as EventListener);
  svg.addEventListener("pointerdown", show as EventListener);
}

/**
 * A chart of `series` over `times` (ms, one per point, oldest first).
 *
 * @returns A figure: caption, the SVG, a legend with totals, and a read-out line.
 */
export function lineChart(opts: { id: string; title: string; times: number[]; series: Series[] }): HTMLElement {
  const { times, series } = opts;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  const cursor = h("line", { class: "grid", y1: PAD.top, y2: PAD.top + PLOT_H, visibility: "hidden" });
  const totals = series.map((s) => `${s.name}: ${total(s)}`).join(", ");
  const svg = h(
    "svg",
    {
      id: opts.id,
      class: "chart",
      viewBox: `0 0 ${W} ${H}`,
      role: "img",
      "aria-label": `${opts.title}. Totals: ${totals}`,
    },
    h("title", {}, opts.title),
    ...axes(times, max),
    ...series.map((s) => line(s, max)),
    cursor,
    h("rect", { x: PAD.left, y: PAD.top, width: PLOT_W, height: PLOT_H, fill: "transparent" }),
  );
  const readout = h("p", { class: "muted", "aria-live": "off" }, "Point at the chart to read a minute.");
  pointer(svg, cursor, readout, times, series);
  const legend = h(
    "div",
    { class: "legend" },
    ...series.map((s) =>
      h("span", {}, h("span", { class: "swatch", style: `background:${s.color}` }), `${s.name} (total ${total(s)})`),
    ),
  );
  const figure = h("figure", { style: "margin:0 0 1rem" });
  replace(figure, h("figcaption", {}, h("h3", {}, opts.title)), svg, legend, readout);
  return figure;
}

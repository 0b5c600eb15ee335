// The Traffic view: paid requests and earnings per minute over the last 24 hours, and the
// refused requests (402 by refusal flag, 429 over the allowance) per minute and in total, from
// GET /api/1/admin/traffic (per-minute counters, src/worker/traffic), read again every few seconds.
import { errorStatus, refusalFlags, type ErrorCode } from "../../protocol/errors.js";
import { h } from "./dom.js";
import { lineChart } from "./chart.js";
import { REFRESH_MS, table, type View } from "./view.js";

/** One minute of GET /api/1/admin/traffic. */
type Minute = { at: number; paid: number; earnings: number; refused: Record<string, number> };

/** The status and flag header (or Retry-After) each refusal code is answered with. */
function answeredWith(code: string): string {
  const status = errorStatus[code as ErrorCode];
  if (status === undefined) return "";
  return `${status} ${refusalFlags[code as ErrorCode] ?? (status === 429 ? "Retry-After" : "")}`.trim();
}
const COLORS = ["#d1242f", "#bf8700", "#8250df", "#0969da", "#1a7f37", "#cf222e", "#6e7781", "#e16f24", "#116329"];

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

function refusals(minutes: Minute[]) {
  const codes = [...new Set(minutes.flatMap((m) => Object.keys(m.refused)))].sort();
  return codes.map((code, i) => ({
    name: code,
    color: COLORS[i % COLORS.length]!,
    values: minutes.map((m) => m.refused[code] ?? 0),
  }));
}

export const trafficView: View = async (ctx) => {
  const draw = async () => {
    const { minutes } = await ctx.api.get<{ minutes: Minute[] }>("/traffic");
    const times = minutes.map((m) => m.at);
    const lastHour = minutes.slice(-60);
    const refused = refusals(minutes);
    ctx.show(
      h("h2", {}, "Traffic"),
      h(
        "p",
        { class: "muted", id: "traffic-summary" },
        `Last hour: ${sum(lastHour.map((m) => m.paid))} paid requests, ${sum(lastHour.map((m) => m.earnings))} base units earned. Last 24 hours: ${sum(minutes.map((m) => m.paid))} paid requests, ${sum(minutes.map((m) => m.earnings))} base units earned.`,
      ),
      lineChart({
        id: "chart-paid",
        title: "Paid requests per minute",
        times,
        series: [{ name: "paid", color: "#1a56db", values: minutes.map((m) => m.paid) }],
      }),
      lineChart({
        id: "chart-earnings",
        title: "Earnings per minute (base units)",
        times,
        series: [{ name: "earnings", color: "#1a7f37", values: minutes.map((m) => m.earnings) }],
      }),
      lineChart({ id: "chart-refused", title: "Refused requests per minute", times, series: refused }),
      table(
        ["Refusal", "Answered with", "#Last hour", "#Last 24 hours"],
        refused.map((s) => ({
          attrs: { "data-code": s.name },
          cells: [s.name, answeredWith(s.name), String(sum(s.values.slice(-60))), String(sum(s.values))],
        })),
        "No request refused in the last 24 hours.",
      ),
      h("p", { class: "muted" }, "Per-minute counters for charts: the exact totals are the channels' own (Overview)."),
    );
  };
  await draw();
  ctx.every(REFRESH_MS, draw);
};

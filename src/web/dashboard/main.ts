// The entry of the dashboard's script (bundled by scripts/build-web.ts into the asset the Worker
// serves at /admin/assets/): a view per URL hash (#overview, #traffic, #channels,
// #channel/<sender>/<openBlock>, #chain, #actions), the navigation marked, each view's timers
// stopped when the person moves on (so a late answer never draws over another view), and amounts
// in token units or base units, as this browser last chose.
import { adminApi } from "./api.js";
import { actionsView } from "./actions.js";
import { chainView } from "./chain.js";
import { channelView } from "./channel.js";
import { channelsView } from "./channels.js";
import { readDashboardData, type DashboardData } from "./data.js";
import { replace } from "./dom.js";
import { overviewView } from "./overview.js";
import { trafficView } from "./traffic.js";
import { errorLine, type View } from "./view.js";

const VIEWS: Record<string, View> = {
  overview: overviewView,
  traffic: trafficView,
  channels: channelsView,
  channel: channelView,
  chain: chainView,
  actions: actionsView,
};

/** Where this browser remembers whether amounts show in token units or base units. */
const UNITS_KEY = "edge402-dashboard-units";
const unitsIn = (): "token" | "base" => (localStorage.getItem(UNITS_KEY) === "base" ? "base" : "token");

const data = readDashboardData(document);
if (data) start(data);

function start(data: DashboardData): void {
  const api = adminApi(data);
  const root = document.getElementById("view")!;
  let shown = 0;
  let timers: ReturnType<typeof setInterval>[] = [];
  const route = async () => {
    for (const t of timers) clearInterval(t);
    timers = [];
    const generation = ++shown;
    const alive = () => generation === shown;
    const [name = "", ...args] = location.hash.slice(1).split("/").map(decodeURIComponent);
    const view = VIEWS[name] ?? overviewView;
    const section = name === "channel" ? "channels" : VIEWS[name] ? name : "overview";
    for (const a of document.querySelectorAll("nav a")) {
      if (a.getAttribute("data-view") === section) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    const ctx = {
      api,
      token: unitsIn() === "base" ? null : await api.token(),
      args,
      alive,
      show: (...nodes: Node[]) => {
        if (alive()) replace(root, ...nodes);
      },
      every: (ms: number, fn: () => Promise<void>) => {
        if (alive()) timers.push(setInterval(() => void fn().catch(() => {}), ms));
      },
    };
    try {
      await view(ctx);
    } catch (err) {
      ctx.show(errorLine(err));
    }
  };
  addEventListener("hashchange", () => void route());
  const units = document.getElementById("units") as HTMLSelectElement | null;
  if (units) {
    units.value = unitsIn();
    units.addEventListener("change", () => {
      localStorage.setItem(UNITS_KEY, units.value);
      void route();
    });
  }
  void route();
}

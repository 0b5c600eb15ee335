// The operator dashboard's two HTML pages: the login form (a plain form POST, so a wrong token
// comes back as the form with a message, with or without script) and the dashboard's shell, whose
// views the script of src/web/dashboard draws from the admin API. Styles are inline and the
// script is the Worker's own asset: nothing comes from another origin, no external font.
import { GATEWAY_PATH } from "../../protocol/headers.js";
import { DASHBOARD_DATA_ID, type DashboardData } from "../../web/dashboard/data.js";
import { DASHBOARD_PATH } from "./admin-cookie.js";
import { DASHBOARD_SCRIPT } from "./dashboard-asset.js";
import { escapeHtml } from "./paywall-page.js";

/** Where the dashboard's script is served (GET, immutable). */
export const DASHBOARD_SCRIPT_PATH = `${DASHBOARD_PATH}/assets/${DASHBOARD_SCRIPT.name}`;

/** The headers of both pages: never cached, never framed, only this origin's script. */
export const DASHBOARD_HEADERS: Record<string, string> = {
  "Cache-Control": "no-store",
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "same-origin",
};

const STYLE = `:root{color-scheme:light dark;--fg:#1b1f24;--muted:#57606a;--bg:#fff;--card:#f6f8fa;--line:#d0d7de;--accent:#1a56db;--bad:#b00020;--ok:#1a7f37}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9da7b3;--bg:#0d1117;--card:#161b22;--line:#30363d;--accent:#4c8dff;--bad:#ff7b72;--ok:#3fb950}}
*{box-sizing:border-box}[hidden]{display:none!important}body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:var(--fg);background:var(--bg)}
header{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem;padding:.6rem 1rem;border-bottom:1px solid var(--line)}
header h1{font-size:1.05rem;margin:0}nav{display:flex;flex-wrap:wrap;gap:.25rem}nav a{padding:.3rem .6rem;border-radius:.35rem;color:var(--fg);text-decoration:none}
nav a[aria-current=page]{background:var(--accent);color:#fff}header .tools{margin-left:auto;display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem}header .units{font-size:.9rem;color:var(--muted)}
main{padding:1rem;max-width:100rem;margin:0 auto}h2{font-size:1.15rem;margin:.2rem 0 .8rem}h3{font-size:1rem;margin:1.2rem 0 .5rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(15rem,1fr));gap:.75rem}.card{background:var(--card);border:1px solid var(--line);border-radius:.5rem;padding:.7rem .9rem}
.card .label{color:var(--muted);font-size:.85rem}.card .value{font-size:1.1rem;font-weight:600;overflow-wrap:anywhere}.card .base{color:var(--muted);font-size:.8rem;overflow-wrap:anywhere}
.table{overflow-x:auto}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid var(--line);white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}tbody tr[data-href]{cursor:pointer}tbody tr[data-href]:hover{background:var(--card)}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;overflow-wrap:anywhere}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:0}dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
button,input,select{font:inherit}button{padding:.45rem 1rem;border:1px solid var(--accent);border-radius:.35rem;background:var(--accent);color:#fff;cursor:pointer}
button.secondary{background:transparent;color:var(--accent)}button:disabled{opacity:.6;cursor:wait}
input,select{padding:.4rem .5rem;border:1px solid var(--line);border-radius:.35rem;background:var(--bg);color:var(--fg)}
.toolbar{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin-bottom:.75rem}.toolbar input{flex:1 1 16rem}
.error,[role=alert]{color:var(--bad)}.ok{color:var(--ok)}.muted{color:var(--muted)}
.chart{width:100%;height:auto;display:block;background:var(--card);border:1px solid var(--line);border-radius:.5rem}
.chart text{fill:var(--muted);font-size:11px}.chart .grid{stroke:var(--line)}.chart .line{fill:none;stroke-width:1.5}
.legend{display:flex;flex-wrap:wrap;gap:.25rem 1rem;font-size:.85rem;margin:.3rem 0 1rem}.swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:.15rem;margin-right:.3rem;vertical-align:-.1rem}
.action{background:var(--card);border:1px solid var(--line);border-radius:.5rem;padding:.8rem 1rem;margin-bottom:.75rem}.action h3{margin-top:0}
.login{max-width:24rem;margin:4rem auto;padding:0 1rem}.login label{display:block;margin:.8rem 0 .3rem}.login input{width:100%}.login button{margin-top:1rem}
@media (max-width:40rem){main{padding:.6rem}header{padding:.5rem .6rem}th,td{padding:.3rem .4rem}}`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="same-origin"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>${body}</body></html>`;
}

/** The login form; `message` (a wrong token, say) is shown above it. */
export function loginPage(message?: string): string {
  return page(
    "edge402 admin: log in",
    `<main class="login"><h1>edge402 admin</h1>
<p class="muted">Enter the admin token (<code>ADMIN_TOKEN</code>) once; this browser then keeps a signed login cookie for 12 hours, not the token.</p>
${message ? `<p role="alert" id="login-error">${escapeHtml(message)}</p>` : ""}
<form method="post" action="${DASHBOARD_PATH}/login">
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Log in</button>
</form></main>`,
  );
}

/** The dashboard's shell: the navigation, logout, and the view the script fills. */
export function dashboardPage(): string {
  const data: DashboardData = { gatewayPath: GATEWAY_PATH, dashboardPath: DASHBOARD_PATH };
  const link = (view: string, label: string) => `<a href="#${view}" data-view="${view}">${label}</a>`;
  return page(
    "edge402 admin",
    `<header><h1>edge402 admin</h1>
<nav aria-label="Views">${link("overview", "Overview")}${link("traffic", "Traffic")}${link("channels", "Channels")}${link("chain", "Chain")}${link("actions", "Actions")}</nav>
<div class="tools"><label class="units">Amounts in <select id="units"><option value="token">token units</option><option value="base">base units</option></select></label>
<form method="post" action="${DASHBOARD_PATH}/logout"><button type="submit" class="secondary">Log out</button></form></div></header>
<main id="view" aria-live="polite"><p class="muted">Loading…</p></main>
<script type="application/json" id="${DASHBOARD_DATA_ID}">${JSON.stringify(data).replace(/</g, "\\u003c")}</script>
<script src="${DASHBOARD_SCRIPT_PATH}" defer></script>`,
  );
}

// The HTML pages a browser gets from the paywall. On a 402, the paying page: the price and the
// deposit a payment locks, a "Pay" button that pays with the person's wallet and shows the paid
// resource in place (the script of src/web, served as one immutable asset under /api/1/assets),
// the terms the headers carry, and the edge402 CLI command for those without a wallet. The
// wallet page (GET /api/1/wallet) closes a channel and returns the unspent deposit. The script
// reads what it needs from a JSON block in the page (src/web/page-data.ts): a script cannot
// read its own document's headers. All values are escaped for HTML (the JSON for a <script>
// element), and the request's URL (chosen by whoever sent the link) is quoted for a POSIX shell
// in the command the page offers to copy, so pasting it runs nothing but that command.
import { GATEWAY_PATH, RdnHeaders } from "../../protocol/headers.js";
import { PAGE_DATA_ID, type PageData } from "../../web/page-data.js";
import type { Config } from "../config.js";
import { PAYWALL_SCRIPT } from "./paywall-asset.js";

/** `s` with the characters HTML gives meaning to escaped (text and attribute values). */
export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!);

/** `s` as one POSIX shell word: single quotes, each `'` inside written as `'\''`. */
export const shellQuote = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;

/** Where the page script is served (GET, immutable). */
export const PAYWALL_SCRIPT_PATH = `${GATEWAY_PATH}/assets/${PAYWALL_SCRIPT.name}`;
/** The page where a person closes their channel. */
export const WALLET_PAGE_PATH = `${GATEWAY_PATH}/wallet`;

/** What the pages' script needs from the deployment. */
export type PageSettings = Pick<PageData, Exclude<keyof PageData, "page" | "code" | "headers">>;

export function pageSettings(config: Config): PageSettings {
  return {
    chainId: config.chainId,
    contract: config.contract,
    token: config.token,
    receiver: config.receiverAddress,
    gatewayPath: GATEWAY_PATH,
    minConfirmations: config.minConfirmations,
    prepayRequests: config.browserPrepayRequests,
    depositRequests: config.browserDepositRequests,
  };
}

/** The page data as the body of a <script> element: `<` escaped so nothing can close it. */
const dataScript = (data: PageData) =>
  `<script type="application/json" id="${PAGE_DATA_ID}">${JSON.stringify(data).replace(/</g, "\\u003c")}</script>
<script src="${PAYWALL_SCRIPT_PATH}" defer></script>`;

const head = (title: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse}th{text-align:left;padding:.25rem 1rem .25rem 0;font-weight:600}code{word-break:break-all}
button{font:inherit;padding:.6rem 1.4rem;border:0;border-radius:.4rem;background:#1a56db;color:#fff;cursor:pointer}
button:disabled{background:#888;cursor:wait}#edge402-error{color:#b00020}#edge402-status{color:#444}</style>
</head><body>`;

export function paywallPage(p: {
  code: string;
  message: string;
  url: string;
  terms: Record<string, string>;
  settings?: PageSettings;
}): string {
  const row = (label: string, header: string) =>
    p.terms[header]
      ? `<tr><th>${escapeHtml(label)}</th><td><code>${escapeHtml(p.terms[header]!)}</code></td></tr>`
      : "";
  const price = p.terms[RdnHeaders.price];
  const pay =
    p.settings && price && /^[0-9]+$/.test(price)
      ? `<p>Price of this page: <strong id="edge402-price">${escapeHtml(price)} base units of the token</strong>.
Paying opens a payment channel with a deposit of <strong id="edge402-deposit">${BigInt(price) * BigInt(p.settings.depositRequests)} base units</strong>
and pays ${p.settings.prepayRequests} requests ahead; later pages are paid from it without asking.
The deposit stays yours until spent: <a href="${WALLET_PAGE_PATH}">close the channel</a> any time to get the rest back.</p>
<p><button id="edge402-pay" type="button">Pay with your wallet</button></p>
<p id="edge402-status" role="status" aria-live="polite"></p>
<p id="edge402-error" role="alert"></p>
${dataScript({ page: "pay", ...p.settings, code: p.code, headers: p.terms })}`
      : "";
  return `${head("Payment required")}
<h1>Payment required</h1>
<p>${escapeHtml(p.message)} <small>(<code>${escapeHtml(p.code)}</code>)</small></p>
${pay}
<h2>Terms</h2>
<table>
${row("Price", RdnHeaders.price)}
${row("Receiver", RdnHeaders.receiverAddress)}
${row("Channel contract", RdnHeaders.contractAddress)}
${row("Token", RdnHeaders.tokenAddress)}
${row("Chain id", RdnHeaders.chainId)}
</table>
<p>Pay with the edge402 client: <code>npx edge402 fetch ${escapeHtml(shellQuote(p.url))}</code></p>
</body></html>`;
}

/** The wallet page: the person's channel with this site and a "Close and refund" button. */
export function walletPage(settings: PageSettings): string {
  return `${head("Your payment channel")}
<h1>Your payment channel</h1>
<p>Pages of this site are paid from a deposit in a payment channel. Closing it pays the site what you
spent and returns the rest of the deposit to your account at once.</p>
<p><button id="edge402-close" type="button">Close and refund</button></p>
<p id="edge402-status" role="status" aria-live="polite">Connect your wallet to see your channel.</p>
<p id="edge402-error" role="alert"></p>
${dataScript({ page: "wallet", ...settings })}
</body></html>`;
}

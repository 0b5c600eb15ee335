// The HTML page a browser gets on a 402: what the resource costs, whom to pay and how, with the
// same terms the headers carry. A plain page for now; all values are escaped for HTML, and the
// request's URL (chosen by whoever sent the link) is quoted for a POSIX shell in the command
// the page offers to copy, so pasting it runs nothing but that command.
import { RdnHeaders } from "../../protocol/headers.js";

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!);

/** `s` as one POSIX shell word: single quotes, each `'` inside written as `'\''`. */
export const shellQuote = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;

export function paywallPage(p: { code: string; message: string; url: string; terms: Record<string, string> }): string {
  const row = (label: string, header: string) =>
    p.terms[header] ? `<tr><th>${escape(label)}</th><td><code>${escape(p.terms[header]!)}</code></td></tr>` : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Payment required</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse}th{text-align:left;padding:.25rem 1rem .25rem 0;font-weight:600}code{word-break:break-all}</style>
</head><body>
<h1>Payment required</h1>
<p>${escape(p.message)} <small>(<code>${escape(p.code)}</code>)</small></p>
<p>This resource is paid per request through an edge402 payment channel.</p>
<table>
${row("Price", RdnHeaders.price)}
${row("Receiver", RdnHeaders.receiverAddress)}
${row("Channel contract", RdnHeaders.contractAddress)}
${row("Token", RdnHeaders.tokenAddress)}
${row("Chain id", RdnHeaders.chainId)}
</table>
<p>Pay with the edge402 client: <code>npx edge402 fetch ${escape(shellQuote(p.url))}</code></p>
</body></html>`;
}

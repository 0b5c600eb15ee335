// The size of what a browser downloads to pay: the 402 page of a priced route and the page's
// script, fetched from the running Worker as a browser would (Accept: text/html), in bytes
// and gzipped (what Cloudflare sends to a browser that accepts gzip). Issue #14's budget is
// 60 KB gzip for both together; x402's paywall bundle is 1 to 3.5 MB.
import { gzipSync } from "node:zlib";
import type { Stack } from "../scripts/stack.js";

export type PageSizeResult =
  | { measured: true; htmlBytes: number; htmlGzip: number; scriptBytes: number; scriptGzip: number; totalGzip: number }
  | { measured: false; reason: string };

export const PAGE_BUDGET_GZIP = 60 * 1024;

export async function benchPage(stack: Stack, progress: (m: string) => void): Promise<PageSizeResult> {
  progress("measuring the paying 402 page and its script");
  const page = await fetch(`${stack.url}/article/size`, { headers: { Accept: "text/html" } });
  const html = Buffer.from(await page.arrayBuffer());
  if (page.status !== 402) return { measured: false, reason: `the page answered ${page.status}, not 402` };
  const src = /<script src="([^"]+)"/.exec(html.toString("utf8"))?.[1];
  if (!src) return { measured: false, reason: "the 402 page names no script" };
  const script = Buffer.from(await (await fetch(`${stack.url}${src}`)).arrayBuffer());
  const htmlGzip = gzipSync(html).length;
  const scriptGzip = gzipSync(script).length;
  return {
    measured: true,
    htmlBytes: html.length,
    htmlGzip,
    scriptBytes: script.length,
    scriptGzip,
    totalGzip: htmlGzip + scriptGzip,
  };
}

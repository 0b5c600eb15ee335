// The demo routes that `npm start` serves (DEMO_ROUTES=true), as PROTOCOL.md section 4 lists
// them: fixed, dynamic, free, trial and metered prices, each answering something checkable,
// an HTML article for the browser's paying page, and a metered event stream that resumes after
// the client's Last-Event-ID.
import { html } from "hono/html";
import { parseAmount } from "../protocol/amount.js";
import type { AppRoute } from "./app.js";
import { errorResponse } from "./http/responses.js";

const MAX_METERED_MS = 10_000;
const MAX_STREAM_EVENTS = 10_000;
/** The demo stream's price per event, and the slice it reserves at a time (10 events). */
const STREAM_PRICE_PER_EVENT = 2;
const STREAM_SLICE = 20n;
const STREAM_EVERY_MS = 50;

export const demoRoutes: AppRoute[] = [
  {
    method: "GET",
    path: "/echofix/:param",
    options: { price: 5n, description: "Answers its parameter; price 5." },
    handler: (c) => c.text(c.req.param("param") ?? ""),
  },
  {
    method: "GET",
    path: "/article/:slug",
    options: { price: 5n, description: "An HTML page, as a browser pays for it on the 402 page; price 5." },
    handler: (c) => {
      const slug = c.req.param("slug") ?? "";
      return c.html(html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${slug}</title>
<style>body{font:18px/1.6 Georgia,serif;max-width:38rem;margin:3rem auto;padding:0 1rem;color:#222}</style>
</head><body><article>
<h1>${slug}</h1>
<p>You are reading a paid page. Your browser paid for it from a payment channel: one deposit on
chain, then a signed balance proof, checked at the edge with no chain call. The next pages are
paid from the credit you prepaid, without asking again.</p>
<p>When you are done, close the channel from <a href="/api/1/wallet">your wallet page</a> to get
the unspent deposit back.</p>
</article></body></html>`);
    },
  },
  {
    method: "GET",
    path: "/echodyn/:n",
    options: {
      price: (c) => {
        const n = c.req.param("n") ?? "";
        return parseAmount(n, 192) ?? 0n;
      },
      description: "Answers n; price n.",
    },
    handler: (c) => {
      const n = c.req.param("n") ?? "";
      if (parseAmount(n, 192) === null)
        return errorResponse(c, "bad_request", { message: "n must be an unsigned decimal integer." });
      return c.text(n);
    },
  },
  {
    method: "GET",
    path: "/free/:param",
    options: { price: 0n, description: "Free; answers its parameter." },
    handler: (c) => c.text(c.req.param("param") ?? ""),
  },
  {
    method: "GET",
    path: "/trial/:param",
    options: { price: 5n, trial: true, description: "Free during a new client's trial, then price 5." },
    handler: (c) => c.text(c.req.param("param") ?? ""),
  },
  {
    method: "GET",
    path: "/metered/:ms",
    options: {
      metered: { maxPrice: 100n, perMs: 0.4 },
      description: "Busy for ms milliseconds; charged 0.4 per ms, at most 100.",
    },
    handler: async (c) => {
      const ms = Number(c.req.param("ms") ?? "");
      if (!Number.isInteger(ms) || ms < 0 || ms > MAX_METERED_MS) {
        return errorResponse(c, "bad_request", { message: `ms must be an integer from 0 to ${MAX_METERED_MS}.` });
      }
      await new Promise((r) => setTimeout(r, ms));
      return c.json({ busyMs: ms });
    },
  },
  {
    method: "GET",
    path: "/stream/:n",
    options: {
      metered: { maxPrice: STREAM_SLICE, perEvent: STREAM_PRICE_PER_EVENT, perMs: 0, perKiB: 0, stream: true },
      description: `n Server-Sent Events, one every ${STREAM_EVERY_MS} ms; ${STREAM_PRICE_PER_EVENT} per event, reserved ${STREAM_SLICE} at a time; resumes after Last-Event-ID.`,
    },
    handler: (c) => {
      const n = Number(c.req.param("n") ?? "");
      if (!Number.isInteger(n) || n < 0 || n > MAX_STREAM_EVENTS) {
        return errorResponse(c, "bad_request", { message: `n must be an integer from 0 to ${MAX_STREAM_EVENTS}.` });
      }
      const last = Number(c.req.header("last-event-id") ?? "0");
      const from = Number.isInteger(last) && last >= 0 ? last + 1 : 1;
      return new Response(countingEvents(from, n), {
        headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" },
      });
    },
  },
];

/** Events `from` to `n` (`id: i`, `data: {"i":i,"n":n}`), the first at once, then one every
 *  STREAM_EVERY_MS; a cancelled stream (the client went away) stops its timer. */
function countingEvents(from: number, n: number): ReadableStream<Uint8Array> {
  const text = new TextEncoder();
  let i = from;
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (i > n) return controller.close();
        if (i > from) await new Promise((r) => (timer = setTimeout(r, STREAM_EVERY_MS)));
        controller.enqueue(text.encode(`id: ${i}\ndata: ${JSON.stringify({ i, n })}\n\n`));
        i++;
      },
      cancel() {
        clearTimeout(timer);
      },
    },
    { highWaterMark: 0 },
  );
}

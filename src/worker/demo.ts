// The demo routes that `npm start` serves (DEMO_ROUTES=true), as PROTOCOL.md section 4 lists
// them: fixed, dynamic, free, trial and metered prices, each answering something checkable,
// and an HTML article for the browser's paying page.
import { html } from "hono/html";
import { parseAmount } from "../protocol/amount.js";
import type { AppRoute } from "./app.js";
import { errorResponse } from "./http/responses.js";

const MAX_METERED_MS = 10_000;

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
];

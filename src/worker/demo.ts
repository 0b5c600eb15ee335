// The demo routes that `npm start` serves (DEMO_ROUTES=true), as PROTOCOL.md section 4 lists
// them: fixed, dynamic, free, trial and metered prices, each answering something checkable.
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

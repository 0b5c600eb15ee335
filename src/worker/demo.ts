// The demo routes that `npm start` serves (DEMO_ROUTES=true), as PROTOCOL.md section 4 lists
// them: fixed, dynamic, free, trial and metered prices, each answering something checkable,
// and a metered event stream that resumes after the client's Last-Event-ID.
import { parseAmount } from "../protocol/amount.js";
import type { AppRoute } from "./app.js";
import { errorResponse } from "./http/responses.js";

const MAX_METERED_MS = 10_000;
const MAX_STREAM_EVENTS = 10_000;
/** The demo stream's price per event, and the slice it reserves at a time (10 events). */
export const STREAM_PRICE_PER_EVENT = 2;
export const STREAM_SLICE = 20n;
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

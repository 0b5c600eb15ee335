// A request's `waitUntil`, from its Hono context: the work it keeps alive after the response.
// Without an execution context (`app.request()` in a test) the work still runs, unguarded.
import type { Context } from "hono";

/** `waitUntil` of the request behind `c`, or undefined when it has no execution context. */
export function waitUntilOf(c: Context): ((p: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx;
    return (p) => ctx.waitUntil(p);
  } catch {
    return undefined;
  }
}

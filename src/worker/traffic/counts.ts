// The unit both traffic stores deal in: one minute's count of one kind of request (paid, or
// refused with one code) and the earnings of the paid ones, in token base units as a double
// (a chart's precision: the exact totals are the channels' own, /api/1/admin/earnings).
import type { ErrorCode } from "../../protocol/errors.js";

/** One counted request: a paid one and what it earned, or a refusal and its code. */
export type TrafficEvent = { kind: "paid"; earnings: bigint } | { kind: "refused"; code: ErrorCode };

/** One minute (unix minute), one kind and code ("" for paid): its requests and earnings. */
export type TrafficCount = {
  minute: number;
  kind: "paid" | "refused";
  code: string;
  requests: number;
  earnings: number;
};

/** The count one event adds at `at` (ms). */
export function countOf(event: TrafficEvent, at: number): TrafficCount {
  const minute = Math.floor(at / 60_000);
  return event.kind === "paid"
    ? { minute, kind: "paid", code: "", requests: 1, earnings: Number(event.earnings) }
    : { minute, kind: "refused", code: event.code, requests: 1, earnings: 0 };
}

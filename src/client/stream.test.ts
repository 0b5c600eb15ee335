// Following a paid event stream against a hostile server: paying again and resuming only when
// the pay event says the credit ran out, and never more than MAX_STREAM_RESUMES times for one
// fetch. The "server" is a function answering like the paying fetch (no network).
import { describe, expect, it } from "vitest";
import type { ChannelBook } from "./book.js";
import type { ChannelLedger } from "./ledger.js";
import { followPaidStreams, MAX_STREAM_RESUMES, PaidStreams } from "./stream.js";

const payEvent = (code: string) =>
  `event: rdn-payment-required\ndata: {"code":"${code}","cost":"5","credit":"0","needed":"5"}\n\n`;

/** A server whose every answer is one event and then the pay event with `code`. */
function server(code: string) {
  const streams = new PaidStreams();
  let calls = 0;
  const paying: typeof fetch = async () => {
    calls++;
    const res = new Response(`id: ${calls}\ndata: x\n\n${payEvent(code)}`, {
      headers: { "content-type": "text/event-stream" },
    });
    streams.note(res, { kind: "session", ledger: {} as ChannelLedger });
    return res;
  };
  const fetchIt = followPaidStreams({ paying, book: {} as ChannelBook, hooks: {}, streams });
  return { fetchIt, calls: () => calls };
}

describe("followPaidStreams", () => {
  it("stops paying a stream that asks again after every event, after MAX_STREAM_RESUMES", async () => {
    const s = server("insufficient_credit");
    const res = await s.fetchIt("http://paywall.test/stream");
    await expect(res.text()).rejects.toMatchObject({ code: "budget_exceeded" });
    expect(s.calls()).toBe(MAX_STREAM_RESUMES + 1);
  });

  it("does not pay again when the pay event says anything but insufficient credit", async () => {
    const s = server("channel_closing");
    const res = await s.fetchIt("http://paywall.test/stream");
    expect(await res.text()).toContain("channel_closing");
    expect(s.calls()).toBe(1);
  });
});

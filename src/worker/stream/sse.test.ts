import { describe, expect, it } from "vitest";
import { countEvents, SseScanner } from "./sse.js";

const bytes = (s: string) => new TextEncoder().encode(s);

/** The offsets where a new block starts, scanning `text` in one pass. */
function blockStarts(text: string): number[] {
  const s = new SseScanner();
  const b = bytes(text);
  const starts: number[] = [];
  b.forEach((byte, i) => {
    if (s.startsBlock(byte)) starts.push(i);
    s.push(byte);
  });
  return starts;
}

describe("SseScanner", () => {
  it("counts the blocks EventSource dispatches: those with a data line", () => {
    expect(countEvents(bytes("data: a\n\ndata: b\ndata: c\n\n"))).toBe(2);
    expect(countEvents(bytes("id: 1\ndata\n\n"))).toBe(1); // "data" alone is an empty data line
    expect(countEvents(bytes(": ping\n\nid: 2\n\nevent: x\n\nretry: 5\n\n"))).toBe(0);
    expect(countEvents(bytes("datax: a\n\ndat: b\n\n data: c\n\n"))).toBe(0);
    // An unfinished block is not an event yet.
    expect(countEvents(bytes("data: a\n\ndata: b\n"))).toBe(1);
  });

  it("reads LF, CRLF and CR line ends, also split between chunks", () => {
    expect(countEvents(bytes("data: a\r\n\r\ndata: b\r\rdata: c\n\n"))).toBe(3);
    const s = new SseScanner();
    for (const part of ["data: a\r", "\n", "\r", "\ndata", ": b\r", "\r"]) for (const byte of bytes(part)) s.push(byte);
    expect(s.events).toBe(2);
    expect(s.inBlock).toBe(false);
  });

  it("knows where each block starts, blank lines between blocks included", () => {
    expect(blockStarts("data: a\n\ndata: b\n\n")).toEqual([0, 9]);
    expect(blockStarts("\n\ndata: a\n\n\n: c\n\n")).toEqual([2, 12]);
    expect(blockStarts("data: a\r\n\r\nid: 1\r\n")).toEqual([0, 11]);
  });
});

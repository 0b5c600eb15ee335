// Reading a Server-Sent Events body in tests, in workerd and in Node alike: block by block
// (split on blank lines) as the bytes arrive, noting when each block came, optionally stopping
// (cancelling the body, as a client that goes away does) after a number of events.

export type Block = { text: string; at: number };

/** A block that EventSource dispatches as a message: it has data and no `event:` type. */
export const isMessage = (b: Block): boolean => /^data:/m.test(b.text) && !/^event:/m.test(b.text);

export async function readBlocks(res: Response, stopAfterEvents = Number.POSITIVE_INFINITY) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const blocks: Block[] = [];
  let rest = "";
  let events = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    rest += value;
    for (let end = rest.indexOf("\n\n"); end >= 0; end = rest.indexOf("\n\n")) {
      const block = { text: rest.slice(0, end), at: Date.now() };
      rest = rest.slice(end + 2);
      blocks.push(block);
      if (isMessage(block)) events++;
    }
    if (events >= stopAfterEvents) {
      await reader.cancel();
      break;
    }
  }
  return { blocks, rest, messages: blocks.filter(isMessage) };
}

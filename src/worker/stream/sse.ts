// Server-Sent Events as the meter sees them: a byte scanner that knows where each event block
// starts and how many events EventSource would dispatch, without holding any byte back, so a
// metered stream can be charged per event and cut only between events; and the two blocks the
// paywall writes itself at a stream's end (the cost comment and the pay event).
import { PAYMENT_REQUIRED_EVENT, StreamComments, type PaymentRequiredData } from "../../protocol/stream.js";

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
/** "data", the field whose lines make a block an event. */
const DATA = [0x64, 0x61, 0x74, 0x61];

/**
 * Reads an event stream one byte at a time (lines end in CRLF, LF or CR; a blank line ends a
 * block). A block counts as an event when it has a `data` line, as EventSource dispatches it:
 * comment-only blocks (`: ping`) and blocks of `id` or `event` alone are not events.
 */
export class SseScanner {
  /** Events whose blank line has been read. */
  events = 0;
  /** A block has started (a non-blank line) and its blank line has not come yet. */
  inBlock = false;
  private lineLength = 0;
  /** How much of the current line's start matches "data" (4: the field is data), or -1. */
  private name = 0;
  private blockHasData = false;
  private afterCR = false;

  /** Whether `byte`, read next, starts a new block. */
  startsBlock(byte: number): boolean {
    return !this.inBlock && byte !== CR && byte !== LF;
  }

  push(byte: number): void {
    if (this.afterCR) {
      this.afterCR = false;
      if (byte === LF) return;
    }
    if (byte === CR || byte === LF) {
      this.endLine();
      this.afterCR = byte === CR;
      return;
    }
    this.inBlock = true;
    if (this.lineLength === this.name && this.name >= 0) {
      if (this.name < 4 && byte === DATA[this.name]) this.name++;
      else if (!(this.name === 4 && byte === COLON)) this.name = -1;
    }
    this.lineLength++;
  }

  private endLine(): void {
    if (this.lineLength === 0) {
      if (this.blockHasData) this.events++;
      this.blockHasData = false;
      this.inBlock = false;
    } else if (this.name === 4) {
      this.blockHasData = true;
    }
    this.lineLength = 0;
    this.name = 0;
  }
}

/** Counts the events of a whole event-stream body. */
export function countEvents(body: Uint8Array): number {
  const s = new SseScanner();
  for (let i = 0; i < body.length; i++) s.push(body[i]!);
  return s.events;
}

const text = new TextEncoder();

/** The final comment of a metered event stream: what it was charged and the channel's credit
 *  after that charge (comments are ignored by EventSource). */
export function costComment(cost: bigint, credit: bigint | undefined): Uint8Array {
  const creditLine = credit === undefined ? "" : `: ${StreamComments.credit} ${credit}\n`;
  return text.encode(`: ${StreamComments.cost} ${cost}\n${creditLine}\n`);
}

/** The event that ends a metered stream whose channel cannot pay for more. */
export function paymentRequiredEvent(e: PaymentRequiredData): Uint8Array {
  return text.encode(`event: ${PAYMENT_REQUIRED_EVENT}\ndata: ${JSON.stringify(e)}\n\n`);
}

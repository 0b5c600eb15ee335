// Reading a metered event stream as it passes, without holding any of it: the last event id
// (to resume after), how many events came, the paywall's final cost comment and its pay event.
// The server is not trusted here either: amounts must be decimal integers, lines are bounded,
// and a pay event whose data does not parse is only an event.
import { parseAmount } from "../protocol/amount.js";
import { PAYMENT_REQUIRED_EVENT, StreamComments } from "../protocol/stream.js";

/** A line longer than this (characters) is skipped, not kept: no field of ours is that long. */
const MAX_LINE = 65_536;

/** The pay event as the client reads it. */
export type PaymentRequired = { code: string; cost: bigint; credit: bigint; needed: bigint };

export class StreamWatch {
  /** The last `id` field read (EventSource's last event ID), if any. */
  lastEventId: string | undefined;
  /** Events (blocks with data) read, the pay event excluded. */
  events = 0;
  /** `: rdn-cost` and `: rdn-credit`, once the stream's end brought them. */
  cost: bigint | undefined;
  credit: bigint | undefined;
  paymentRequired: PaymentRequired | undefined;

  private readonly decoder = new TextDecoder();
  private line = "";
  private overlong = false;
  private afterCR = false;
  private eventType = "";
  private data: string[] = [];

  push(chunk: Uint8Array): void {
    const text = this.decoder.decode(chunk, { stream: true });
    let from = 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (ch !== 10 && ch !== 13) continue;
      if (!(this.afterCR && ch === 10 && i === from)) this.take(text.slice(from, i));
      this.afterCR = ch === 13;
      from = i + 1;
    }
    if (from < text.length) this.afterCR = false;
    this.append(text.slice(from));
  }

  private append(part: string): void {
    if (this.overlong) return;
    if (this.line.length + part.length > MAX_LINE) {
      this.overlong = true;
      this.line = "";
    } else {
      this.line += part;
    }
  }

  /** A line ended: `part` is its last piece. */
  private take(part: string): void {
    this.append(part);
    const line = this.overlong ? null : this.line;
    this.line = "";
    this.overlong = false;
    if (line === null) return;
    if (line === "") this.endBlock();
    else if (line.startsWith(":")) this.comment(line.slice(1).trim());
    else this.field(line);
  }

  private field(line: string): void {
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (name === "id" && !value.includes("\0")) this.lastEventId = value;
    else if (name === "event") this.eventType = value;
    else if (name === "data") this.data.push(value);
  }

  private comment(text: string): void {
    const [name, value, extra] = text.split(" ");
    const amount = extra === undefined ? parseAmount(value) : null;
    if (amount === null) return;
    if (name === StreamComments.cost) this.cost = amount;
    else if (name === StreamComments.credit) this.credit = amount;
  }

  private endBlock(): void {
    const type = this.eventType;
    const data = this.data;
    this.eventType = "";
    this.data = [];
    if (data.length === 0) return;
    if (type === PAYMENT_REQUIRED_EVENT) {
      this.paymentRequired = readPaymentRequired(data.join("\n"));
      return;
    }
    // The paywall writes its pay event and cost comment last: any met before a later event came
    // from the handler's own body, and means nothing.
    this.events++;
    this.paymentRequired = undefined;
    this.cost = undefined;
    this.credit = undefined;
  }
}

function readPaymentRequired(data: string): PaymentRequired | undefined {
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const { code, ...amounts } = v as Record<string, unknown>;
  // Amounts are decimal strings (a JSON number would lose digits).
  const [cost, credit, needed] = [amounts.cost, amounts.credit, amounts.needed].map((a) =>
    typeof a === "string" ? parseAmount(a) : null,
  );
  if (typeof code !== "string" || cost == null || credit == null || needed == null) return undefined;
  return { code, cost, credit, needed };
}

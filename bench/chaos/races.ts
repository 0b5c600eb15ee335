// Scenario 3, replay and races: attempts to get more served than was paid for.
// a. The same balance proof sent `copies` times at once (one may pass; the rest are replays).
// b. A session with credit for `credit` requests spent by twice as many requests at once.
// c. A sender's close request (DELETE, signed CloseRequest) racing fresh proofs and session
//    spends on the same channel: nothing may be served past the closing balance it returns.
// Each channel is then judged from the server's final state against what was served (the sum
// of RDN-Cost over its 200s): what the receiver can collect (min(B, D), or the closing balance
// of a closed channel) must cover every served request, and C must equal the served total.
// Double accepts = served cost not covered, in requests.
import type { Stack } from "../../scripts/stack.js";
import { minBigint } from "../../src/protocol/amount.js";
import { openChannels, proofHeaders, signProof, type BenchChannel } from "../channels.js";
import { closeHeaders, PRICE, publicChannel, send, sleep, tally, type Answer, type Progress } from "./harness.js";

export type RaceOptions = {
  proofRounds: number;
  copies: number;
  sessionRounds: number;
  credit: number;
  closes: number;
};
export const RACES_FULL: RaceOptions = { proofRounds: 50, copies: 8, sessionRounds: 20, credit: 10, closes: 20 };

export type RaceResult = {
  attempts: number;
  byKind: Record<"sameProof" | "sessionPastCredit" | "proofVsClose", { attempts: number; served: number }>;
  answers: Record<string, number>;
  /** Served requests not covered by what the receiver can collect. */
  doubleAccepts: number;
  /** Channels whose C differs from the sum of served costs. */
  chargeMismatches: number;
  /** Same-proof rounds with more than one 200. */
  replaysServed: number;
  durationS: number;
};

/** What was served on one channel, and what closing it returned. */
type Book = { ch: BenchChannel; served: bigint; closedAt: bigint | null; balance: bigint };

function count(r: RaceResult, kind: keyof RaceResult["byKind"], book: Book, answers: Answer[]): number {
  let ok = 0;
  for (const a of answers) {
    r.attempts++;
    r.byKind[kind].attempts++;
    tally(r.answers, a.status === 200 ? "200" : `${a.status} ${JSON.parse(a.text || "{}").error?.code ?? ""}`);
    if (a.status === 200) {
      ok++;
      r.byKind[kind].served++;
      book.served += BigInt(a.headers.get("RDN-Cost") ?? "0");
    }
  }
  return ok;
}

async function proof(stack: Stack, book: Book, n: bigint): Promise<Record<string, string>> {
  book.balance = n > book.balance ? n : book.balance;
  return proofHeaders(book.ch, n, await signProof(stack, book.ch, n));
}

const paid = (stack: Stack, headers: Record<string, string>) => send(`${stack.url}/echofix/race`, { headers });

async function sameProof(stack: Stack, book: Book, r: RaceResult, o: RaceOptions): Promise<void> {
  for (let i = 0; i < o.proofRounds; i++) {
    const h = await proof(stack, book, book.balance + PRICE);
    const answers = await Promise.all(Array.from({ length: o.copies }, () => paid(stack, h)));
    if (count(r, "sameProof", book, answers) > 1) r.replaysServed++;
  }
}

async function sessionPastCredit(stack: Stack, book: Book, r: RaceResult, o: RaceOptions): Promise<void> {
  for (let i = 0; i < o.sessionRounds; i++) {
    // Pays one request and leaves `credit` requests of credit.
    const buy = await paid(stack, await proof(stack, book, book.balance + PRICE * BigInt(o.credit + 1)));
    count(r, "sessionPastCredit", book, [buy]);
    const token = buy.headers.get("RDN-Session") ?? "";
    const spends = await Promise.all(Array.from({ length: 2 * o.credit }, () => paid(stack, { "RDN-Session": token })));
    count(r, "sessionPastCredit", book, spends);
  }
}

async function proofVsClose(stack: Stack, book: Book, r: RaceResult): Promise<void> {
  const buy = await paid(stack, await proof(stack, book, 11n * PRICE));
  count(r, "proofVsClose", book, [buy]);
  const token = buy.headers.get("RDN-Session") ?? "";
  const proofs = await Promise.all([1n, 2n, 3n, 4n, 5n, 6n].map((k) => proof(stack, book, (11n + k) * PRICE)));
  const close = await closeHeaders(stack, book.ch);
  const url = `${stack.url}/api/1/channels/${book.ch.sender}/${book.ch.openBlock}`;
  // Each racer and the close start 0-40 ms late, so the close lands before, between and after them.
  const jitter = () => sleep(Math.random() * 40);
  const late = async (h: Record<string, string>) => {
    await jitter();
    return paid(stack, h);
  };
  const closing = async () => {
    await jitter();
    return send(url, { method: "DELETE", headers: close });
  };
  const racers = [...proofs.map(late), ...Array.from({ length: 4 }, () => late({ "RDN-Session": token }))];
  const [closed, ...answers] = await Promise.all([closing(), ...racers]);
  count(r, "proofVsClose", book, answers);
  r.attempts++;
  r.byKind.proofVsClose.attempts++;
  if (closed.status === 200) book.closedAt = BigInt((JSON.parse(closed.text) as { balance: string }).balance);
  tally(r.answers, `close ${closed.status}`);
}

async function judge(stack: Stack, book: Book, r: RaceResult): Promise<void> {
  const s = await publicChannel(stack, book.ch);
  const collectable = book.closedAt ?? minBigint(s.balance, s.deposit);
  if (book.served > collectable) r.doubleAccepts += Number((book.served - collectable) / PRICE);
  if (s.charged !== book.served) r.chargeMismatches++;
}

export async function raceScenario(stack: Stack, o: RaceOptions, progress: Progress): Promise<RaceResult> {
  const started = Date.now();
  const r: RaceResult = {
    attempts: 0,
    byKind: {
      sameProof: { attempts: 0, served: 0 },
      sessionPastCredit: { attempts: 0, served: 0 },
      proofVsClose: { attempts: 0, served: 0 },
    },
    answers: {},
    doubleAccepts: 0,
    chargeMismatches: 0,
    replaysServed: 0,
    durationS: 0,
  };
  progress(`races: opening ${8 + o.closes} channels`);
  const chans = await openChannels(stack, 8 + o.closes, 10n ** 12n);
  const books: Book[] = chans.map((ch) => ({ ch, served: 0n, closedAt: null, balance: 0n }));
  const [a, b] = [books.slice(0, 4), books.slice(4, 8)];
  const perA = { ...o, proofRounds: Math.ceil(o.proofRounds / 4) };
  const perB = { ...o, sessionRounds: Math.ceil(o.sessionRounds / 4) };
  progress(`races: the same proof ${o.copies} times at once, ${perA.proofRounds * 4} rounds`);
  await Promise.all(a.map((book) => sameProof(stack, book, r, perA)));
  progress(
    `races: sessions with credit for ${o.credit} spent ${2 * o.credit} times at once, ${perB.sessionRounds * 4} rounds`,
  );
  await Promise.all(b.map((book) => sessionPastCredit(stack, book, r, perB)));
  progress(`races: ${o.closes} close requests racing 6 proofs and 4 session spends each`);
  for (let i = 8; i < books.length; i += 4)
    await Promise.all(books.slice(i, i + 4).map((book) => proofVsClose(stack, book, r)));
  for (const book of books) await judge(stack, book, r);
  r.durationS = (Date.now() - started) / 1000;
  return r;
}

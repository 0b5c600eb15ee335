// The fuzzer's generators (fast-check): whole requests built from the payment headers of
// PROTOCOL.md section 3, mostly near-valid. Each field is either a real value from the fixture
// (a channel's sender and open block, a proof signed for it, a live session token) or a hostile
// one: odd numbers ("0x5", "5.0", "-1", fullwidth digits, 2^256), unicode, addresses in the
// wrong case or length, signatures for the wrong domain, with a high s or a bad v, tampered
// tokens. Headers may repeat (sent as separate lines), appear as cookies, mixed with headers,
// or ride in an x402 `PAYMENT-SIGNATURE` (base64 JSON, PROTOCOL.md section 5). A case may also
// ask the executor to add a freshly signed valid proof (`fresh`), so that some requests pay.
import fc from "fast-check";
import type { Address, Hex } from "viem";

/** A proof the fixture signed: coherent sender, open block, balance and signature. */
export type SignedTuple = { sender: Address; openBlock: number; balance: bigint; signature: Hex; why: string };

/** What the generators draw real values from. */
export type FuzzPool = {
  channels: Array<{ sender: Address; openBlock: number }>;
  proofs: SignedTuple[];
  sessions: string[];
  chainId: number;
  contract: Address;
  receiver: Address;
};

export type FuzzCase = {
  method: "GET" | "POST" | "DELETE";
  path: string;
  headers: Array<[string, string]>;
  /** Add a valid proof for this fixture channel (index) at its next balance, before sending. */
  fresh?: number;
};

const RDN = {
  sender: "RDN-Sender-Address",
  openBlock: "RDN-Open-Block",
  balance: "RDN-Balance",
  signature: "RDN-Balance-Signature",
  session: "RDN-Session",
};

const hexChars = (n: number) =>
  fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEF"), minLength: n, maxLength: n });

/** Numbers as a hostile client writes them. */
const oddNumber = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 300n }).map(String),
  fc.constantFrom("0x5", "5.0", "-1", "+5", " 5", "5 ", "1e3", "٥", "５", "00005", "", "NaN", "Infinity", "0", "-0"),
  fc.constantFrom(
    String(2n ** 192n),
    String(2n ** 192n - 1n),
    String(2n ** 256n),
    String(2n ** 32n),
    String(2n ** 32n - 1n),
  ),
  fc.nat().map((n) => `${n}${"0".repeat(n % 90)}`),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "grapheme", maxLength: 6 }),
);

const oddAddress = (pool: FuzzPool) =>
  fc.oneof(
    fc
      .constantFrom(...pool.channels.map((c) => c.sender))
      .chain((a) =>
        fc.constantFrom(
          a,
          a.toLowerCase(),
          `0X${a.slice(2).toUpperCase()}`,
          a.slice(2),
          `${a}00`,
          a.slice(0, 41),
          ` ${a}`,
        ),
      ),
    hexChars(40).map((h) => `0x${h}`),
    fc.constantFrom("0x0000000000000000000000000000000000000000", pool.receiver, pool.contract, "0xｆ39F", "0x"),
    fc.string({ unit: "grapheme", maxLength: 44 }),
  );

/** A 65-byte signature with s or v changed (high s: n - s, v 0/1/29), or random hex. */
const curveN = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
function twisted(sig: Hex, how: number): string {
  const r = sig.slice(2, 66);
  const s = BigInt(`0x${sig.slice(66, 130)}`);
  const v = Number.parseInt(sig.slice(130, 132), 16);
  if (how === 0) return `0x${r}${(curveN - s).toString(16).padStart(64, "0")}${(v === 27 ? 28 : 27).toString(16)}`;
  if (how === 1) return `0x${r}${sig.slice(66, 130)}${(v - 27).toString(16).padStart(2, "0")}`;
  if (how === 2) return `0x${r}${sig.slice(66, 130)}1d`;
  if (how === 3) return sig.toUpperCase();
  return sig.slice(0, 2 + 128);
}

const oddSignature = (pool: FuzzPool) =>
  fc.oneof(
    { arbitrary: fc.constantFrom(...pool.proofs.map((p) => p.signature)), weight: 3 },
    fc.tuple(fc.constantFrom(...pool.proofs.map((p) => p.signature)), fc.nat(4)).map(([s, how]) => twisted(s, how)),
    hexChars(130).map((h) => `0x${h}`),
    fc.nat(140).chain((n) => hexChars(n).map((h) => `0x${h}`)),
    fc.string({ unit: "grapheme", maxLength: 40 }),
  );

const oddSession = (pool: FuzzPool) =>
  fc.oneof(
    fc.constantFrom(...pool.sessions),
    fc.tuple(fc.constantFrom(...pool.sessions), fc.nat(), fc.constantFrom("A", "_", "-", ".", "é")).map(([t, i, c]) => {
      const at = i % t.length;
      return t.slice(0, at) + c + t.slice(at + 1);
    }),
    fc.constantFrom(...pool.sessions).map((t) => t.slice(0, Math.floor(t.length / 2))),
    fc.base64String({ maxLength: 200 }),
    fc.string({ unit: "grapheme", maxLength: 60 }),
  );

/** The four proof headers: a signed tuple, each field kept or replaced by a hostile value. */
const proofHeaders = (pool: FuzzPool) =>
  fc
    .record({
      tuple: fc.constantFrom(...pool.proofs),
      sender: fc.option(oddAddress(pool), { freq: 3 }),
      openBlock: fc.option(fc.oneof(oddNumber, fc.constantFrom(...pool.channels.map((c) => String(c.openBlock)))), {
        freq: 3,
      }),
      balance: fc.option(oddNumber, { freq: 3 }),
      signature: fc.option(oddSignature(pool), { freq: 3 }),
      drop: fc.option(fc.constantFrom(RDN.sender, RDN.openBlock, RDN.balance, RDN.signature), { freq: 5 }),
    })
    .map(({ tuple, sender, openBlock, balance, signature, drop }) =>
      (
        [
          [RDN.sender, sender ?? tuple.sender],
          [RDN.openBlock, openBlock ?? String(tuple.openBlock)],
          [RDN.balance, balance ?? tuple.balance.toString()],
          [RDN.signature, signature ?? tuple.signature],
        ] as Array<[string, string]>
      ).filter(([name]) => name !== drop),
    );

/** x402's PAYMENT-SIGNATURE: base64 of a PaymentPayload with the channel scheme, or junk. */
const x402Payload = (pool: FuzzPool) =>
  fc
    .oneof(
      fc
        .record({
          tuple: fc.constantFrom(...pool.proofs),
          session: fc.option(oddSession(pool)),
          balance: fc.option(oddNumber),
        })
        .map(({ tuple, session, balance }) =>
          JSON.stringify({
            x402Version: 2,
            accepted: {
              scheme: "channel",
              network: `eip155:${pool.chainId}`,
              amount: "5",
              asset: pool.contract,
              payTo: pool.receiver,
              maxTimeoutSeconds: 60,
              extra: { contract: pool.contract },
            },
            payload:
              session !== null
                ? { session }
                : {
                    sender: tuple.sender,
                    openBlock: tuple.openBlock,
                    balance: balance ?? tuple.balance.toString(),
                    signature: tuple.signature,
                  },
          }),
        ),
      fc.json(),
      fc.string({ unit: "grapheme", maxLength: 80 }),
    )
    .chain((json) =>
      fc.constantFrom(Buffer.from(json, "utf8").toString("base64"), Buffer.from(json).toString("base64url"), json),
    );

/** The `name=value` pairs of a Cookie header: payment names, real or hostile values. */
const cookies = (pool: FuzzPool) =>
  fc
    .array(
      fc.oneof(
        proofHeaders(pool),
        oddSession(pool).map((s) => [[RDN.session, s]] as Array<[string, string]>),
      ),
      { minLength: 1, maxLength: 2 },
    )
    .map((sets) =>
      sets
        .flat()
        .map(([n, v]) => `${n}=${v}`)
        .join("; "),
    );

const caseOf = (name: string) => fc.constantFrom(name, name.toLowerCase(), name.toUpperCase());

/** One request's header lines: groups drawn and concatenated, each possibly repeated. */
export const headerLines = (pool: FuzzPool) =>
  fc
    .array(
      fc.oneof(
        { arbitrary: proofHeaders(pool), weight: 4 },
        { arbitrary: oddSession(pool).map((s) => [[RDN.session, s]] as Array<[string, string]>), weight: 2 },
        cookies(pool).map((c) => [["Cookie", c]] as Array<[string, string]>),
        x402Payload(pool).map((p) => [["PAYMENT-SIGNATURE", p]] as Array<[string, string]>),
        fc.tuple(oddSignature(pool), oddNumber).map(
          ([s, d]) =>
            [
              ["RDN-Close-Signature", s],
              ["RDN-Close-Deadline", d],
            ] as Array<[string, string]>,
        ),
        fc
          .constantFrom("text/html", "application/json", "*/*", "text/html;q=0.1, application/json")
          .map((a) => [["Accept", a]] as Array<[string, string]>),
        fc.string({ maxLength: 40 }).map((t) => [["Authorization", `Bearer ${t}`]] as Array<[string, string]>),
      ),
      { minLength: 0, maxLength: 4 },
    )
    .chain((groups) =>
      fc.tuple(
        ...groups.flat().map(([name, value]) =>
          fc.tuple(caseOf(name), fc.constant(value), fc.nat(9)).map(([n, v, r]) => {
            // One header in ten is sent twice, the second time with another value.
            const lines: Array<[string, string]> = [[n, clean(v)]];
            if (r === 0) lines.push([n, clean(`${v}0`)]);
            return lines;
          }),
        ),
      ),
    )
    .map((lines) => lines.flat());

/** Header values may not hold CR, LF or NUL on the wire (no HTTP server would pass them on). */
const clean = (v: string) => v.replace(/[\r\n\0]/g, " ");

const routes = (pool: FuzzPool) =>
  fc.oneof(
    { arbitrary: fc.constant("/echofix/fuzz"), weight: 5 },
    oddNumber.map((n) => `/echodyn/${encodeURIComponent(n)}`),
    fc.constantFrom("/free/fuzz", "/trial/fuzz", "/metered/5", "/metered/-1", "/origin/fuzz", "/nope", "/api/1/stats"),
    fc
      .tuple(oddAddress(pool), oddNumber)
      .map(([s, b]) => `/api/1/channels/${encodeURIComponent(s)}/${encodeURIComponent(b)}`),
    fc.constantFrom(...pool.channels).map((c) => `/api/1/channels/${c.sender}/${c.openBlock}`),
    fc.constantFrom("/api/1/admin/channels", "/api/1/admin/earnings", "/api/1/admin/sync"),
  );

/** Whole requests. */
export const fuzzCase = (pool: FuzzPool): fc.Arbitrary<FuzzCase> =>
  fc.record({
    method: fc.oneof(
      { arbitrary: fc.constant("GET" as const), weight: 8 },
      fc.constantFrom("POST" as const, "DELETE" as const),
    ),
    path: routes(pool),
    headers: headerLines(pool),
    fresh: fc.option(fc.nat(pool.channels.length - 1), { freq: 6, nil: undefined }),
  });

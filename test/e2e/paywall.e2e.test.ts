// End-to-end: the `npm start` stack (anvil + contracts + demo origin + the Worker under
// `wrangler dev`) driven over real HTTP by a client written from PROTOCOL.md (./client.ts).
// It covers the terms of a 402, exact payment, every refusal flag a client can provoke, credit
// and sessions, malformed headers, a race of one proof, the proxied origin route, the public
// management API, and the cooperative close down to the tokens on chain. It also measures
// (never asserts) free and paid latency for the notes.
import { parseEventLogs, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { microTransferChannelsAbi } from "../../src/protocol/abi.js";
import { ANVIL_KEYS } from "../../scripts/anvil.js";
import { startStack, type Stack } from "../../scripts/stack.js";
import { E2EClient, TERMS, errorCode, flagsOf, median, percentile, type Channel } from "./client.js";

let stack: Stack;
let client: E2EClient;

beforeAll(async () => {
  stack = await startStack({
    // Flow control stays on, with allowances no test run can reach.
    env: { FREE_CAPACITY: "1000000", PAID_CAPACITY: "1000000" },
    scheduledEveryMs: 2_000,
  });
  client = new E2EClient(stack);
});

afterAll(async () => {
  await stack?.stop();
});

/** Expects a 402 refused with exactly `flag` and JSON code `code`, naming the channel. */
async function expectRefused(res: Response, flag: string, code: string, ch?: Channel) {
  expect(res.status).toBe(402);
  expect(flagsOf(res)).toEqual([flag]);
  for (const name of TERMS) expect(res.headers.get(name), name).not.toBeNull();
  if (ch) {
    expect(res.headers.get("RDN-Sender-Address")?.toLowerCase()).toBe(ch.sender.toLowerCase());
    expect(res.headers.get("RDN-Open-Block")).toBe(String(ch.openBlock));
  }
  expect(res.headers.get("content-type")).toMatch(/application\/json/);
  expect(await errorCode(res)).toBe(code);
}

describe("terms", () => {
  it("a priced route without payment answers 402 with every term and a JSON body", async () => {
    const res = await client.fetch("/echofix/hello");
    expect(res.status).toBe(402);
    expect(res.headers.get("RDN-Gateway-Path")).toBe("/api/1");
    expect(res.headers.get("RDN-Receiver-Address")?.toLowerCase()).toBe(stack.receiver.toLowerCase());
    expect(res.headers.get("RDN-Contract-Address")?.toLowerCase()).toBe(stack.contract.toLowerCase());
    expect(res.headers.get("RDN-Token-Address")?.toLowerCase()).toBe(stack.token.toLowerCase());
    expect(res.headers.get("RDN-Chain-Id")).toBe(String(stack.chainId));
    expect(res.headers.get("RDN-Price")).toBe("5");
    expect(flagsOf(res)).toEqual([]);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("payment_required");
    expect(typeof body.error.message).toBe("string");
  });

  it("a dynamic route announces its own price", async () => {
    const res = await client.fetch("/echodyn/7");
    expect(res.status).toBe(402);
    expect(res.headers.get("RDN-Price")).toBe("7");
  });

  it("a browser gets the HTML paywall with the same terms", async () => {
    const res = await client.fetch("/echofix/hello", {
      headers: { Accept: "text/html,application/xhtml+xml,*/*;q=0.8" },
    });
    expect(res.status).toBe(402);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    expect(res.headers.get("RDN-Price")).toBe("5");
    const html = await res.text();
    expect(html).toMatch(/<html/i);
    expect(html.toLowerCase()).toContain(stack.receiver.toLowerCase());
  });

  it("a free route answers without payment and still carries the terms", async () => {
    const res = await client.fetch("/free/abc");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("abc");
    expect(res.headers.get("RDN-Price")).toBe("0");
  });
});

describe("paying with balance proofs", () => {
  let ch: Channel;

  beforeAll(async () => {
    // anvil's account 4 is unlocked in anvil: its proofs are signed by eth_signTypedData_v4.
    ch = await client.openChannel(privateKeyToAccount(ANVIL_KEYS[4]!), 100n);
  });

  let firstHeaders: Record<string, string>;

  it("an exact payment signed by a standard EIP-712 wallet is served", async () => {
    const signature = await client.signViaRpc(ch.sender, ch.openBlock, 5n);
    firstHeaders = E2EClient.proofHeaders(ch.sender, ch.openBlock, 5n, signature);
    const res = await client.fetch("/echofix/hello", { headers: firstHeaders });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("hello");
    expect(res.headers.get("RDN-Cost")).toBe("5");
    expect(res.headers.get("RDN-Sender-Balance")).toBe("5");
    expect(res.headers.get("RDN-Credit")).toBe("0");
    expect(res.headers.get("RDN-Deposit")).toBe("100");
    expect(res.headers.get("RDN-Balance-Signature")?.toLowerCase()).toBe(signature.toLowerCase());
    expect(res.headers.get("RDN-Session")).toMatch(/^[A-Za-z0-9_.-]+$/);
    expect(res.headers.get("RDN-Price")).toBe("5");
    expect(flagsOf(res)).toEqual([]);
  });

  it("the same proof again is refused with RDN-Invalid-Amount and changes nothing", async () => {
    const res = await client.fetch("/echofix/hello", { headers: firstHeaders });
    expect(res.headers.get("RDN-Sender-Balance")).toBe("5");
    await expectRefused(res, "RDN-Invalid-Amount", "invalid_amount", ch);
  });

  it("an underpayment is refused with RDN-Invalid-Amount", async () => {
    // B = C = 5; N = 8 leaves N - C = 3 < price 5.
    const res = await client.pay(ch, 8n);
    expect(res.headers.get("RDN-Sender-Balance")).toBe("5");
    await expectRefused(res, "RDN-Invalid-Amount", "invalid_amount", ch);
  });

  it("a balance over the deposit is refused with RDN-Insufficient-Deposit", async () => {
    const res = await client.pay(ch, 101n);
    await expectRefused(res, "RDN-Insufficient-Deposit", "insufficient_deposit", ch);
  });

  it("a proof signed by someone else is refused with RDN-Invalid-Balance-Proof", async () => {
    const stranger = privateKeyToAccount(ANVIL_KEYS[5]!);
    const signature = await client.sign(stranger, ch.openBlock, 10n);
    const res = await client.fetch("/echofix/hello", {
      headers: E2EClient.proofHeaders(ch.sender, ch.openBlock, 10n, signature),
    });
    await expectRefused(res, "RDN-Invalid-Balance-Proof", "invalid_balance_proof");
  });

  it("a proof for another contract's domain is refused with RDN-Invalid-Balance-Proof", async () => {
    const account = privateKeyToAccount(ANVIL_KEYS[4]!);
    // Same chain, same receiver, but another contract as verifyingContract.
    const signature = await client.sign(account, ch.openBlock, 10n, { contract: stack.token });
    const res = await client.fetch("/echofix/hello", {
      headers: E2EClient.proofHeaders(ch.sender, ch.openBlock, 10n, signature),
    });
    await expectRefused(res, "RDN-Invalid-Balance-Proof", "invalid_balance_proof");
  });

  it("a proof for another chain is refused with RDN-Invalid-Balance-Proof", async () => {
    const account = privateKeyToAccount(ANVIL_KEYS[4]!);
    const signature = await client.sign(account, ch.openBlock, 10n, { chainId: 1 });
    const res = await client.fetch("/echofix/hello", {
      headers: E2EClient.proofHeaders(ch.sender, ch.openBlock, 10n, signature),
    });
    await expectRefused(res, "RDN-Invalid-Balance-Proof", "invalid_balance_proof");
  });

  it("after the refusals the next proof is judged from the unchanged state", async () => {
    const res = await client.pay(ch, 10n);
    expect(res.status).toBe(200);
    expect(res.headers.get("RDN-Sender-Balance")).toBe("10");
    expect(res.headers.get("RDN-Cost")).toBe("5");
    expect(res.headers.get("RDN-Credit")).toBe("0");
  });

  it("a proof for a channel that does not exist is refused with RDN-Nonexisting-Channel", async () => {
    const account = await client.freshAccount();
    const head = Number(await client.pub.getBlockNumber());
    const signature = await client.sign(account, head, 5n);
    const res = await client.fetch("/echofix/hello", {
      headers: E2EClient.proofHeaders(account.address, head, 5n, signature),
    });
    await expectRefused(res, "RDN-Nonexisting-Channel", "nonexisting_channel");
  });
});

describe("credit and sessions", () => {
  it("an overpayment becomes credit, spent by RDN-Session until RDN-Insufficient-Credit", async () => {
    const ch = await client.newChannel(100n);
    const first = await client.pay(ch, 20n);
    expect(first.status).toBe(200);
    expect(first.headers.get("RDN-Cost")).toBe("5");
    expect(first.headers.get("RDN-Sender-Balance")).toBe("20");
    expect(first.headers.get("RDN-Credit")).toBe("15");
    let session = first.headers.get("RDN-Session")!;
    expect(session).toBeTruthy();

    for (const left of ["10", "5", "0"]) {
      const res = await client.fetch("/echofix/again", { headers: { "RDN-Session": session } });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("again");
      expect(res.headers.get("RDN-Cost")).toBe("5");
      expect(res.headers.get("RDN-Credit")).toBe(left);
      expect(res.headers.get("RDN-Sender-Balance")).toBe("20");
      session = res.headers.get("RDN-Session") ?? session;
    }
    const refused = await client.fetch("/echofix/again", { headers: { "RDN-Session": session } });
    await expectRefused(refused, "RDN-Insufficient-Credit", "insufficient_credit", ch);
    expect(refused.headers.get("RDN-Credit")).toBe("0");

    // A new proof tops the credit up again.
    const more = await client.pay(ch, 25n);
    expect(more.status).toBe(200);
    expect(more.headers.get("RDN-Credit")).toBe("0");
  });

  it("a session is also accepted as a cookie", async () => {
    const ch = await client.newChannel(100n);
    const first = await client.pay(ch, 10n);
    expect(first.status).toBe(200);
    const session = first.headers.get("RDN-Session")!;
    const res = await client.fetch("/echofix/c", { headers: { Cookie: `RDN-Session=${session}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("RDN-Credit")).toBe("0");
  });
});

describe("malformed payment headers", () => {
  let valid: Record<string, string>;

  beforeAll(async () => {
    const ch = await client.newChannel(100n);
    const signature = await client.sign(ch.account, ch.openBlock, 5n);
    valid = E2EClient.proofHeaders(ch.sender, ch.openBlock, 5n, signature);
  });

  const cases: Array<[string, Record<string, string | undefined>]> = [
    ["hex balance", { "RDN-Balance": "0x5" }],
    ["decimal point", { "RDN-Balance": "5.0" }],
    ["negative balance", { "RDN-Balance": "-5" }],
    ["leading zero", { "RDN-Balance": "05" }],
    ["balance over uint192", { "RDN-Balance": (1n << 192n).toString() }],
    ["short address", { "RDN-Sender-Address": "0x1234" }],
    ["non-hex address", { "RDN-Sender-Address": `0x${"g".repeat(40)}` }],
    ["open block over uint32", { "RDN-Open-Block": "4294967296" }],
    ["short signature", { "RDN-Balance-Signature": "0x1234" }],
    ["non-hex signature", { "RDN-Balance-Signature": `0x${"z".repeat(130)}` }],
    ["missing signature", { "RDN-Balance-Signature": undefined }],
  ];

  for (const [name, change] of cases) {
    it(`${name} → 400 malformed_header`, async () => {
      const headers: Record<string, string> = { ...valid };
      for (const [k, v] of Object.entries(change)) {
        if (v === undefined) delete headers[k];
        else headers[k] = v;
      }
      const res = await client.fetch("/echofix/hello", { headers });
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toMatch(/application\/json/);
      expect(await errorCode(res)).toBe("malformed_header");
      expect(flagsOf(res)).toEqual([]);
    });
  }

  it("the valid proof those were made from is still accepted (they changed nothing)", async () => {
    const res = await client.fetch("/echofix/hello", { headers: valid });
    expect(res.status).toBe(200);
    expect(res.headers.get("RDN-Sender-Balance")).toBe("5");
  });
});

describe("concurrency", () => {
  it("16 concurrent copies of one fresh proof: exactly one is served", async () => {
    const ch = await client.newChannel(100n);
    const signature = await client.sign(ch.account, ch.openBlock, 5n);
    const headers = E2EClient.proofHeaders(ch.sender, ch.openBlock, 5n, signature);
    const results = await Promise.all(
      Array.from({ length: 16 }, async () => {
        const res = await client.fetch("/echofix/race", { headers });
        return { status: res.status, flags: flagsOf(res), code: res.status === 200 ? "ok" : await errorCode(res) };
      }),
    );
    const served = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status !== 200);
    expect(served).toHaveLength(1);
    expect(refused).toHaveLength(15);
    for (const r of refused) {
      expect(r.status).toBe(402);
      expect(r.code).toBe("invalid_amount");
      expect(r.flags).toEqual(["RDN-Invalid-Amount"]);
    }
    const info = (await (await client.fetch(`/api/1/channels/${ch.sender}/${ch.openBlock}`)).json()) as {
      balance: string;
      credit: string;
    };
    expect(info.balance).toBe("5");
    expect(info.credit).toBe("0");
  });
});

describe("proxied origin route", () => {
  it("is priced, and the origin sees who paid but none of the payment headers", async () => {
    const unpaid = await client.fetch("/origin/report?q=1");
    expect(unpaid.status).toBe(402);
    expect(unpaid.headers.get("RDN-Price")).toBe("3");
    await unpaid.arrayBuffer();

    const ch = await client.newChannel(100n);
    const res = await client.pay(ch, 3n, "/origin/report?q=1&q=2&x=y", {
      "X-Edge402-Sender": "0x0000000000000000000000000000000000000001",
      "X-Custom": "kept",
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("RDN-Cost")).toBe("3");
    expect(res.headers.get("RDN-Session")).toBeTruthy();
    const echo = (await res.json()) as {
      origin: string;
      method: string;
      path: string;
      query: Record<string, string | string[]>;
      edge402: Record<string, string>;
      headers: Record<string, string>;
    };
    expect(echo.origin).toBe("edge402-demo-origin");
    expect(echo.method).toBe("GET");
    expect(echo.path).toBe("/origin/report");
    expect(echo.query).toEqual({ q: ["1", "2"], x: "y" });
    expect(echo.edge402["x-edge402-sender"]?.toLowerCase()).toBe(ch.sender.toLowerCase());
    expect(echo.headers["x-custom"]).toBe("kept");
    const leaked = Object.keys(echo.headers).filter((h) => h.startsWith("rdn-"));
    expect(leaked).toEqual([]);
  });
});

describe("management API", () => {
  it("GET /api/1/stats", async () => {
    const res = await client.fetch("/api/1/stats");
    expect(res.status).toBe(200);
    const s = (await res.json()) as Record<string, unknown>;
    expect(String(s.receiver).toLowerCase()).toBe(stack.receiver.toLowerCase());
    expect(String(s.contract).toLowerCase()).toBe(stack.contract.toLowerCase());
    expect(String(s.token).toLowerCase()).toBe(stack.token.toLowerCase());
    expect(s.chainId).toBe(stack.chainId);
    expect(s.challengePeriod).toBe(500);
    expect(s.minConfirmations).toBe(1);
    expect(s).toHaveProperty("syncedBlock");
    expect(s.syncedBlock === null || typeof s.syncedBlock === "number" || typeof s.syncedBlock === "string").toBe(true);
    expect(typeof s.openChannels).toBe("number");
  });

  it("GET /api/1/pricing lists every priced route with its mode", async () => {
    const res = await client.fetch("/api/1/pricing");
    expect(res.status).toBe(200);
    const p = (await res.json()) as { routes: Array<Record<string, unknown>> };
    const byPath = new Map(p.routes.map((r) => [r.path, r]));
    expect(byPath.get("/echofix/:param")).toMatchObject({ method: "GET", mode: "fixed", price: "5" });
    expect(byPath.get("/echodyn/:n")).toMatchObject({ method: "GET", mode: "dynamic" });
    expect(byPath.get("/free/:param")).toMatchObject({ method: "GET", mode: "fixed", price: "0" });
    expect(byPath.get("/trial/:param")).toMatchObject({ method: "GET", mode: "fixed", price: "5", trial: true });
    expect(byPath.get("/metered/:ms")).toMatchObject({ method: "GET", mode: "metered", maxPrice: "100" });
    expect(byPath.get("/origin/*")).toMatchObject({ method: "GET", mode: "fixed", price: "3" });
    for (const r of p.routes) expect(r).toHaveProperty("costUnits");
  });
});

describe("cooperative close", () => {
  let ch: Channel;
  const C = 10n;

  beforeAll(async () => {
    ch = await client.newChannel(100n);
    // B = 20, C = 5 after the proof, C = 10 after one session request.
    const first = await client.pay(ch, 20n);
    expect(first.status).toBe(200);
    const second = await client.fetch("/echofix/x", { headers: { "RDN-Session": first.headers.get("RDN-Session")! } });
    expect(second.status).toBe(200);
    expect(second.headers.get("RDN-Credit")).toBe("10");
  });

  it("a close request without a signature is refused with 401 and changes nothing", async () => {
    const res = await client.fetch(`/api/1/channels/${ch.sender}/${ch.openBlock}`, { method: "DELETE" });
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    expect(typeof (await errorCode(res))).toBe("string");
  });

  it("a close request signed by someone else is refused with 401", async () => {
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 600);
    const stranger = await client.freshAccount();
    const sig = await client.signCloseRequest(stranger, ch.openBlock, deadline);
    const res = await client.fetch(`/api/1/channels/${ch.sender}/${ch.openBlock}`, {
      method: "DELETE",
      headers: { "RDN-Close-Signature": sig, "RDN-Close-Deadline": deadline.toString() },
    });
    expect(res.status).toBe(401);
    await res.arrayBuffer();
    // Still serving: the refused close changed nothing.
    const still = await client.pay(ch, 25n);
    expect(still.status).toBe(200);
    expect(still.headers.get("RDN-Credit")).toBe("10");
  });

  it("a signed close request gets the closing signature at C, and the sender settles on chain", async () => {
    // The payment above raised B to 25 and C to 15.
    const charged = C + 5n;
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 600);
    const sig = await client.signCloseRequest(ch.account, ch.openBlock, deadline);
    const res = await client.fetch(`/api/1/channels/${ch.sender}/${ch.openBlock}`, {
      method: "DELETE",
      headers: { "RDN-Close-Signature": sig, "RDN-Close-Deadline": deadline.toString() },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { balance: string; closingSignature: Hex };
    expect(body.balance).toBe(charged.toString());
    expect(body.closingSignature).toMatch(/^0x[0-9a-fA-F]{130}$/);

    // After the close request the channel serves nothing more.
    const refused = await client.pay(ch, 30n);
    await expectRefused(refused, "RDN-Channel-Closing", "channel_closing", ch);
    const state = (await (await client.fetch(`/api/1/channels/${ch.sender}/${ch.openBlock}`)).json()) as {
      state: string;
      balance: string;
    };
    expect(state.state).toBe("closing");
    expect(state.balance).toBe("25");

    const balanceSig = await client.sign(ch.account, ch.openBlock, charged);
    const receipt = await client.cooperativeClose(ch, charged, balanceSig, body.closingSignature);
    const before = receipt.blockNumber - 1n;
    const { withdrawn } = await client.channelInfo(ch, before);
    const senderGain =
      (await client.tokenBalance(ch.sender, receipt.blockNumber)) - (await client.tokenBalance(ch.sender, before));
    const receiverGain =
      (await client.tokenBalance(stack.receiver, receipt.blockNumber)) -
      (await client.tokenBalance(stack.receiver, before));
    expect(senderGain).toBe(ch.deposit - charged);
    // Whatever the receiver withdrew earlier plus what the close paid it is exactly C.
    expect(receiverGain + withdrawn).toBe(charged);
    const [settled] = parseEventLogs({
      abi: microTransferChannelsAbi,
      logs: receipt.logs,
      eventName: "ChannelSettled",
    });
    expect(settled?.args.balance).toBe(charged);
  });
});

describe("latency (measured, not asserted)", () => {
  it("50 free vs 50 paid sequential requests", async () => {
    const N = 50;
    const time = async (make: (i: number) => Promise<Response>) => {
      const ms: number[] = [];
      for (let i = 0; i < N; i++) {
        const t = performance.now();
        const res = await make(i);
        await res.arrayBuffer();
        ms.push(performance.now() - t);
        expect(res.status).toBe(200);
      }
      return ms;
    };
    // Warm both paths first.
    await (await client.fetch("/free/warm")).arrayBuffer();
    const ch = await client.newChannel(10_000n);
    const proofs = await Promise.all(
      Array.from({ length: N + 1 }, (_, i) => client.sign(ch.account, ch.openBlock, BigInt((i + 1) * 5))),
    );
    const warm = await client.fetch("/echofix/warm", {
      headers: E2EClient.proofHeaders(ch.sender, ch.openBlock, 5n, proofs[0]!),
    });
    expect(warm.status).toBe(200);
    const session = warm.headers.get("RDN-Session")!;

    const free = await time(() => client.fetch("/free/x"));
    const paid = await time((i) =>
      client.fetch("/echofix/x", {
        headers: E2EClient.proofHeaders(ch.sender, ch.openBlock, BigInt((i + 2) * 5), proofs[i + 1]!),
      }),
    );
    // Credit for the session run: after the warm-up and the paid run C = (N + 1) * 5; one more
    // proof pays its own request (5) and leaves credit for N session requests.
    const top = BigInt((N + 1) * 5 + 5 + N * 5);
    const topSig = await client.sign(ch.account, ch.openBlock, top);
    const topped = await client.fetch("/echofix/top", {
      headers: E2EClient.proofHeaders(ch.sender, ch.openBlock, top, topSig),
    });
    expect(topped.status).toBe(200);
    expect(topped.headers.get("RDN-Credit")).toBe(String(N * 5));
    const bySession = await time(() => client.fetch("/echofix/x", { headers: { "RDN-Session": session } }));

    const fmt = (xs: number[]) => `median ${median(xs).toFixed(2)} ms, p90 ${percentile(xs, 90).toFixed(2)} ms`;
    console.log(
      [
        `e2e latency over ${N} sequential requests each (wrangler dev, local workerd, 127.0.0.1):`,
        `  free   /free/x                       ${fmt(free)}`,
        `  paid   /echofix/x, fresh proof each  ${fmt(paid)}`,
        `  paid   /echofix/x, RDN-Session       ${fmt(bySession)}`,
      ].join("\n"),
    );
  });
});

// The acceptance rules of PROTOCOL.md section 3 through the real Worker in workerd, against
// channels opened on a real anvil: terms, exact payment, every refusal flag, malformed headers.
import { beforeAll, describe, expect, it } from "vitest";
import type { PrivateKeyAccount } from "viem/accounts";
import { encodeProofHeaders } from "../../src/protocol/codec.js";
import { chain, freshAccount, keys, openChannel, pay, receiver, request, signProof, topUp } from "./helpers.js";
import { privateKeyToAccount } from "viem/accounts";

const TERMS = ["RDN-Gateway-Path", "RDN-Receiver-Address", "RDN-Contract-Address", "RDN-Token-Address", "RDN-Chain-Id", "RDN-Price"];
const FLAGS = [
  "RDN-Insufficient-Confirmations",
  "RDN-Nonexisting-Channel",
  "RDN-Invalid-Balance-Proof",
  "RDN-Invalid-Amount",
  "RDN-Insufficient-Deposit",
  "RDN-Channel-Closing",
  "RDN-Insufficient-Credit",
];

async function expectRefusal(res: Response, flag: string, code: string) {
  expect(res.status).toBe(402);
  for (const f of FLAGS) expect(res.headers.get(f), f).toBe(f === flag ? "1" : null);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(5);
}

describe("terms", () => {
  it("a priced route without payment answers 402 with the terms and a JSON body", async () => {
    const res = await request("/echofix/hi");
    expect(res.status).toBe(402);
    for (const h of TERMS) expect(res.headers.get(h), h).toBeTruthy();
    expect(res.headers.get("RDN-Gateway-Path")).toBe("/api/1");
    expect(res.headers.get("RDN-Price")).toBe("5");
    expect(res.headers.get("RDN-Chain-Id")).toBe(String(chain.chainId));
    expect(res.headers.get("RDN-Receiver-Address")!.toLowerCase()).toBe(receiver.address.toLowerCase());
    expect(res.headers.get("RDN-Contract-Address")!.toLowerCase()).toBe(chain.contract.toLowerCase());
    expect(await res.json()).toEqual({ error: { code: "payment_required", message: expect.any(String) } });
  });

  it("a browser gets an HTML paywall on a 402", async () => {
    const res = await request("/echofix/hi", { headers: { accept: "text/html,application/xhtml+xml" } });
    expect(res.status).toBe(402);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("Payment required");
    // The copy-paste command quotes the URL for a shell: a hostile link runs nothing on paste.
    const hostile = await request("/echofix/x'$(id)'", { headers: { accept: "text/html" } });
    expect(await hostile.text()).toContain(`npx edge402 fetch &#39;http://paywall.test/echofix/x&#39;\\&#39;&#39;$(id)&#39;\\&#39;&#39;&#39;`);
  });

  it("a dynamic price is computed per request; a free route carries terms with price 0", async () => {
    expect((await request("/echodyn/42")).headers.get("RDN-Price")).toBe("42");
    const free = await request("/free/abc");
    expect(free.status).toBe(200);
    expect(free.headers.get("RDN-Price")).toBe("0");
  });
});

describe("paying", () => {
  let alice: PrivateKeyAccount;
  let openBlock: number;
  beforeAll(async () => {
    alice = await freshAccount();
    ({ openBlock } = await openChannel(alice, 100n));
  });

  it("serves an exact payment and reports the channel", async () => {
    const res = await pay(alice, openBlock, 5n);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("hello");
    expect(res.headers.get("RDN-Cost")).toBe("5");
    expect(res.headers.get("RDN-Sender-Balance")).toBe("5");
    expect(res.headers.get("RDN-Credit")).toBe("0");
    expect(res.headers.get("RDN-Deposit")).toBe("100");
    expect(res.headers.get("RDN-Balance-Signature")).toBe(await signProof(alice, openBlock, 5n));
    expect(res.headers.get("RDN-Session")).toMatch(/^s1\./);
    // The answer carries the payer's session: no shared cache may keep or replay it.
    expect(res.headers.get("Cache-Control")).toBe("private, no-store");
    for (const h of TERMS) expect(res.headers.get(h), h).toBeTruthy();
  });

  it("refuses a replay, an underpayment and a balance above the deposit", async () => {
    await expectRefusal(await pay(alice, openBlock, 5n), "RDN-Invalid-Amount", "invalid_amount");
    await expectRefusal(await pay(alice, openBlock, 8n), "RDN-Invalid-Amount", "invalid_amount");
    const over = await pay(alice, openBlock, 101n);
    await expectRefusal(over, "RDN-Insufficient-Deposit", "insufficient_deposit");
    // The refusals carry the channel so a client can resync, and changed nothing.
    expect(over.headers.get("RDN-Sender-Balance")).toBe("5");
    const next = await pay(alice, openBlock, 10n);
    expect(next.status).toBe(200);
    expect(next.headers.get("RDN-Sender-Balance")).toBe("10");
  });

  it("refuses a wrong signer and another domain with RDN-Invalid-Balance-Proof", async () => {
    const mallory = privateKeyToAccount(keys[9]!);
    const forged = await signProof(mallory, openBlock, 15n);
    const headers = encodeProofHeaders({ sender: alice.address, openBlock, balance: 15n, signature: forged });
    const forgedRes = await request("/echofix/x", { headers });
    // The refusal still tells the client what the server holds for the channel it named.
    expect(forgedRes.headers.get("RDN-Sender-Balance")).toBe("10");
    expect(forgedRes.headers.get("RDN-Balance-Signature")).toBe(await signProof(alice, openBlock, 10n));
    expect(forgedRes.headers.get("RDN-Deposit")).toBe("100");
    await expectRefusal(forgedRes, "RDN-Invalid-Balance-Proof", "invalid_balance_proof");
    for (const domain of [
      { contract: chain.token },
      { chainId: 1 },
      { receiver: privateKeyToAccount(keys[2]!).address },
    ]) {
      const signature = await signProof(alice, openBlock, 15n, domain);
      const res = await request("/echofix/x", { headers: encodeProofHeaders({ sender: alice.address, openBlock, balance: 15n, signature }) });
      await expectRefusal(res, "RDN-Invalid-Balance-Proof", "invalid_balance_proof");
    }
    expect((await pay(alice, openBlock, 15n)).status).toBe(200);
  });

  it("refuses an unknown channel with RDN-Nonexisting-Channel", async () => {
    await expectRefusal(await pay(alice, openBlock + 1_000_000, 5n), "RDN-Nonexisting-Channel", "nonexisting_channel");
  });

  it("accepts a proof above the known deposit after a top-up (one deposit re-read)", async () => {
    const bob = await freshAccount();
    const ch = await openChannel(bob, 10n);
    expect((await pay(bob, ch.openBlock, 5n)).status).toBe(200);
    await expectRefusal(await pay(bob, ch.openBlock, 15n), "RDN-Insufficient-Deposit", "insufficient_deposit");
    await topUp(bob, ch.openBlock, 90n);
    const res = await pay(bob, ch.openBlock, 15n);
    expect(res.status).toBe(200);
    expect(res.headers.get("RDN-Deposit")).toBe("100");
  });

  it("serves a dynamic price", async () => {
    const carol = await freshAccount();
    const ch = await openChannel(carol, 100n);
    const res = await pay(carol, ch.openBlock, 42n, "/echodyn/42");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("42");
    expect(res.headers.get("RDN-Cost")).toBe("42");
  });
});

describe("malformed payment headers", () => {
  const good = {
    "RDN-Sender-Address": "0x" + "ab".repeat(20),
    "RDN-Open-Block": "7",
    "RDN-Balance": "5",
    "RDN-Balance-Signature": "0x" + "11".repeat(64) + "1b",
  };
  const cases: [string, Record<string, string>][] = [
    ["bad address", { ...good, "RDN-Sender-Address": "0x1234" }],
    ["hex balance", { ...good, "RDN-Balance": "0x5" }],
    ["decimal point", { ...good, "RDN-Balance": "5.0" }],
    ["oversized balance", { ...good, "RDN-Balance": (2n ** 192n).toString() }],
    ["negative open block", { ...good, "RDN-Open-Block": "-1" }],
    ["short signature", { ...good, "RDN-Balance-Signature": "0x1234" }],
    ["non-hex signature", { ...good, "RDN-Balance-Signature": "0x" + "zz".repeat(65) }],
    ["missing signature", { "RDN-Sender-Address": good["RDN-Sender-Address"], "RDN-Open-Block": "7", "RDN-Balance": "5" }],
  ];
  for (const [name, headers] of cases) {
    it(`answers 400 malformed_header for ${name}`, async () => {
      const res = await request("/echofix/x", { headers });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { code: string } };
      expect(body.error.code).toBe("malformed_header");
      expect(res.headers.get("RDN-Price")).toBe("5");
    });
  }

  it("reads payment cookies, and a header wins over a cookie", async () => {
    const dave = await freshAccount();
    const { openBlock } = await openChannel(dave, 100n);
    const signature = await signProof(dave, openBlock, 5n);
    const cookie = Object.entries(encodeProofHeaders({ sender: dave.address, openBlock, balance: 5n, signature }))
      .map(([k, v]) => `${k}=${v}`)
      .join("; ");
    const res = await request("/echofix/cookie", { headers: { cookie } });
    expect(res.status).toBe(200);
    const replay = await request("/echofix/cookie", { headers: { cookie, "RDN-Balance": "abc" } });
    expect(replay.status).toBe(400);
  });
});

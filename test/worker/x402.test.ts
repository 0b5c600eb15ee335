// x402 v2 through the real Worker in workerd (PROTOCOL.md section 5), against channels opened on
// the real anvil and the global setup's local facilitator (x402's own facilitator code): the
// `PAYMENT-REQUIRED` offer on every 402, a `channel` payment carried in `PAYMENT-SIGNATURE`
// judged exactly as its `RDN-*` twin (same flags, same state, plus x402's receipt), malformed
// and foreign payloads refused with nothing changed, `RDN-*` winning over `PAYMENT-SIGNATURE`,
// and `exact` paid, not settled for a failed handler, and withheld when its settlement fails.
import { env } from "cloudflare:test";
import { x402Client } from "@x402/core/client";
import {
  decodePaymentRequiredHeader,
  decodePaymentResponseHeader,
  encodePaymentSignatureHeader,
} from "@x402/core/http";
import type { PaymentPayload, PaymentRequired, PaymentRequirements } from "@x402/core/types";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { describe, expect, it, vi } from "vitest";
import type { PrivateKeyAccount } from "viem/accounts";
import { testTokenAbi } from "../../src/protocol/abi.js";
import { flushTraffic, trafficSeries } from "../../src/worker/traffic/index.js";
import { encodeProofHeaders } from "../../src/protocol/codec.js";
import {
  chain,
  freshAccount,
  openChannel,
  pay,
  publicClient,
  receiver,
  request,
  rpcCall,
  signProof,
  wallet,
  anvil,
} from "./helpers.js";

const facilitator = (env as unknown as { TEST_FACILITATOR: { url: string; address: string } }).TEST_FACILITATOR;

/** A 402's decoded offer. */
function offerOf(res: Response): PaymentRequired {
  const header = res.headers.get("PAYMENT-REQUIRED");
  expect(header, "PAYMENT-REQUIRED").toBeTruthy();
  return decodePaymentRequiredHeader(header!);
}

async function requirementsFor(path: string, scheme: string): Promise<PaymentRequirements> {
  const res = await request(path);
  expect(res.status).toBe(402);
  const accepted = offerOf(res).accepts.find((r) => r.scheme === scheme);
  expect(accepted, scheme).toBeDefined();
  return accepted!;
}

/** `PAYMENT-SIGNATURE` for a `channel` payload. */
function channelSignature(accepted: PaymentRequirements, payload: Record<string, string>): string {
  return encodePaymentSignatureHeader({ x402Version: 2, accepted, payload });
}

async function proofPayload(account: PrivateKeyAccount, openBlock: number, balance: bigint) {
  return {
    sender: account.address,
    openBlock: String(openBlock),
    balance: balance.toString(),
    signature: await signProof(account, openBlock, balance),
  };
}

async function channelState(sender: string, openBlock: number) {
  const res = await request(`/api/1/channels/${sender}/${openBlock}`);
  return res.status === 200 ? await res.json() : res.status;
}

function tokenBalance(owner: string): Promise<bigint> {
  return publicClient.readContract({
    address: chain.token,
    abi: testTokenAbi,
    functionName: "balanceOf",
    args: [owner as `0x${string}`],
  });
}

describe("x402 offer", () => {
  it("every 402 of a priced route carries PAYMENT-REQUIRED: channel first, then exact", async () => {
    const res = await request("/echofix/hi");
    expect(res.status).toBe(402);
    const offer = offerOf(res);
    expect(offer).toMatchObject({
      x402Version: 2,
      error: "payment_required",
      resource: { url: "http://paywall.test/echofix/hi", mimeType: "" },
    });
    const [channel, exact, ...rest] = offer.accepts;
    expect(rest).toEqual([]);
    expect(channel).toMatchObject({
      scheme: "channel",
      network: `eip155:${chain.chainId}`,
      amount: "5",
      payTo: receiver.address,
      maxTimeoutSeconds: 300,
      extra: { gatewayPath: "/api/1", minConfirmations: 1 },
    });
    expect(channel!.asset.toLowerCase()).toBe(chain.token.toLowerCase());
    expect((channel!.extra.contract as string).toLowerCase()).toBe(chain.contract.toLowerCase());
    expect(exact).toMatchObject({
      scheme: "exact",
      network: `eip155:${chain.chainId}`,
      amount: "5",
      payTo: receiver.address,
      extra: { name: "Edge402 Test Token", version: "1" },
    });
  });

  it("a metered route offers its maximum; a free route offers nothing; a browser's 402 page still comes", async () => {
    expect((await requirementsFor("/metered/5", "channel")).amount).toBe("100");
    const free = await request("/free/x");
    expect(free.status).toBe(200);
    expect(free.headers.get("PAYMENT-REQUIRED")).toBeNull();
    const page = await request("/echofix/hi", { headers: { accept: "text/html" } });
    expect(page.status).toBe(402);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(offerOf(page).accepts[0]!.scheme).toBe("channel");
  });
});

describe("x402 channel payments", () => {
  it("a proof in PAYMENT-SIGNATURE pays like RDN-*, with the RDN-* answer and x402's receipt; its session spends credit", async () => {
    const account = await freshAccount();
    const { openBlock } = await openChannel(account, 1000n);
    const accepted = await requirementsFor("/echofix/a", "channel");
    const paid = await request("/echofix/a", {
      headers: { "PAYMENT-SIGNATURE": channelSignature(accepted, await proofPayload(account, openBlock, 50n)) },
    });
    expect(paid.status).toBe(200);
    expect(await paid.text()).toBe("a");
    expect(paid.headers.get("RDN-Cost")).toBe("5");
    expect(paid.headers.get("RDN-Credit")).toBe("45");
    const session = paid.headers.get("RDN-Session")!;
    const receipt = decodePaymentResponseHeader(paid.headers.get("PAYMENT-RESPONSE")!);
    expect(receipt).toMatchObject({
      success: true,
      payer: account.address,
      network: `eip155:${chain.chainId}`,
      transaction: "",
      extra: {
        channel: { sender: account.address, openBlock: String(openBlock), balance: "50", credit: "45", session },
      },
    });

    const spent = await request("/echofix/b", {
      headers: { "PAYMENT-SIGNATURE": channelSignature(accepted, { session }) },
    });
    expect(spent.status).toBe(200);
    expect(spent.headers.get("RDN-Credit")).toBe("40");
    expect(decodePaymentResponseHeader(spent.headers.get("PAYMENT-RESPONSE")!).extra).toMatchObject({
      channel: { balance: "50", credit: "40", cost: "5" },
    });
  });

  it("a refused x402 proof gets the same flag as RDN-*, and PAYMENT-REQUIRED names the code and the channel held", async () => {
    const account = await freshAccount();
    const { openBlock } = await openChannel(account, 1000n);
    expect((await pay(account, openBlock, 20n)).status).toBe(200);
    const accepted = await requirementsFor("/echofix/c", "channel");
    const before = await channelState(account.address, openBlock);
    const stale = await request("/echofix/c", {
      headers: { "PAYMENT-SIGNATURE": channelSignature(accepted, await proofPayload(account, openBlock, 20n)) },
    });
    expect(stale.status).toBe(402);
    expect(stale.headers.get("RDN-Invalid-Amount")).toBe("1");
    expect(((await stale.json()) as { error: { code: string } }).error.code).toBe("invalid_amount");
    const offer = offerOf(stale);
    expect(offer.error).toBe("invalid_amount");
    expect(offer.accepts[0]!.extra.channel).toMatchObject({
      balance: "20",
      credit: "15",
      openBlock: String(openBlock),
    });
    expect(await channelState(account.address, openBlock)).toEqual(before);
  });

  it("malformed, foreign or unknown-scheme PAYMENT-SIGNATURE: 400/402 with a JSON error, nothing changed", async () => {
    const account = await freshAccount();
    const { openBlock } = await openChannel(account, 1000n);
    expect((await pay(account, openBlock, 10n)).status).toBe(200);
    const accepted = await requirementsFor("/echofix/d", "channel");
    const before = await channelState(account.address, openBlock);
    const good = await proofPayload(account, openBlock, 15n);
    const cases: Array<[string, string, number, string]> = [
      ["not base64", "%%%", 400, "malformed_payment_signature"],
      ["not JSON", btoa("{nope"), 400, "malformed_payment_signature"],
      [
        "x402 v1",
        btoa(JSON.stringify({ x402Version: 1, accepted, payload: good })),
        400,
        "malformed_payment_signature",
      ],
      [
        "a number balance",
        channelSignature(accepted, { ...good, balance: 15 } as never),
        400,
        "malformed_payment_signature",
      ],
      ["an unknown field", channelSignature(accepted, { ...good, extra: "1" }), 400, "malformed_payment_signature"],
      ["a hex balance", channelSignature(accepted, { ...good, balance: "0xf" }), 400, "malformed_payment_signature"],
      ["an unknown scheme", channelSignature({ ...accepted, scheme: "upto" }, good), 402, "unsupported_payment_scheme"],
      [
        "another receiver",
        channelSignature({ ...accepted, payTo: account.address }, good),
        402,
        "payment_requirements_mismatch",
      ],
      [
        "another network",
        channelSignature({ ...accepted, network: "eip155:1" }, good),
        402,
        "payment_requirements_mismatch",
      ],
    ];
    for (const [what, header, status, code] of cases) {
      const res = await request("/echofix/d", { headers: { "PAYMENT-SIGNATURE": header } });
      expect(res.status, what).toBe(status);
      expect(((await res.json()) as { error: { code: string } }).error.code, what).toBe(code);
      if (status === 402) expect(offerOf(res).error, what).toBe(code);
    }
    expect(await channelState(account.address, openBlock)).toEqual(before);
  });

  it("RDN-* headers win over PAYMENT-SIGNATURE", async () => {
    const account = await freshAccount();
    const { openBlock } = await openChannel(account, 1000n);
    const accepted = await requirementsFor("/echofix/e", "channel");
    // A good RDN-* proof beside a garbage PAYMENT-SIGNATURE: paid by the proof, no x402 receipt.
    const byRdn = await pay(account, openBlock, 5n, "/echofix/e", { "PAYMENT-SIGNATURE": "%%%" });
    expect(byRdn.status).toBe(200);
    expect(byRdn.headers.get("PAYMENT-RESPONSE")).toBeNull();
    // A stale RDN-* proof beside a good x402 one: refused by the RDN-* proof, the x402 one unused.
    const stale = encodeProofHeaders({
      sender: account.address,
      openBlock,
      balance: 5n,
      signature: await signProof(account, openBlock, 5n),
    });
    const x402 = channelSignature(accepted, await proofPayload(account, openBlock, 10n));
    const refused = await request("/echofix/e", { headers: { ...stale, "PAYMENT-SIGNATURE": x402 } });
    expect(refused.status).toBe(402);
    expect(refused.headers.get("RDN-Invalid-Amount")).toBe("1");
    expect(await channelState(account.address, openBlock)).toMatchObject({ balance: "5" });
  });
});

/** An `exact` payment for `path`, signed by `account` with x402's own client. */
async function exactSignature(
  account: PrivateKeyAccount,
  path: string,
): Promise<{ header: string; payload: PaymentPayload }> {
  const res = await request(path);
  const required = offerOf(res);
  const client = new x402Client()
    .register(`eip155:${chain.chainId}`, new ExactEvmScheme(account))
    .setSpendControls({ allowedAssets: true });
  const payload = await client.createPaymentPayload({
    ...required,
    accepts: required.accepts.filter((r) => r.scheme === "exact"),
  });
  return { header: encodePaymentSignatureHeader(payload), payload };
}

async function funded(amount: bigint): Promise<PrivateKeyAccount> {
  const account = await freshAccount();
  await publicClient.waitForTransactionReceipt({
    hash: await wallet(account).writeContract({
      chain: anvil,
      account,
      address: chain.token,
      abi: testTokenAbi,
      functionName: "mint",
      args: [account.address, amount],
    }),
  });
  return account;
}

/** Paid requests and their earnings in the traffic counters of the last hour. */
async function paidTraffic(): Promise<{ paid: number; earnings: number }> {
  await flushTraffic(env as never);
  const minutes = await trafficSeries(env as never, { from: Date.now() - 3_600_000 });
  return {
    paid: minutes.reduce((n, m) => n + m.paid, 0),
    earnings: minutes.reduce((n, m) => n + m.earnings, 0),
  };
}

describe("x402 exact payments", () => {
  it("pays through the facilitator: verified, served, settled on chain before the answer", async () => {
    const account = await funded(100n);
    const before = await tokenBalance(receiver.address);
    const counted = await paidTraffic();
    const { header } = await exactSignature(account, "/echofix/x");
    const res = await request("/echofix/x", { headers: { "PAYMENT-SIGNATURE": header } });
    expect(res.status).toBe(200);
    // Counted in the traffic counters as a paid request that earned its price.
    await vi.waitFor(
      async () => expect(await paidTraffic()).toEqual({ paid: counted.paid + 1, earnings: counted.earnings + 5 }),
      {
        timeout: 15_000,
        interval: 100,
      },
    );
    expect(await res.text()).toBe("x");
    const receipt = decodePaymentResponseHeader(res.headers.get("PAYMENT-RESPONSE")!);
    expect(receipt).toMatchObject({ success: true, payer: account.address, network: `eip155:${chain.chainId}` });
    const mined = await publicClient.getTransactionReceipt({ hash: receipt.transaction as `0x${string}` });
    expect(mined.status).toBe("success");
    expect(await tokenBalance(receiver.address)).toBe(before + 5n);
    expect(await tokenBalance(account.address)).toBe(95n);
    // The same authorization again: the facilitator refuses it, nothing is served.
    const again = await request("/echofix/x", { headers: { "PAYMENT-SIGNATURE": header } });
    expect(again.status).toBe(402);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe("payment_invalid");
  });

  it("an authorization for another price does not match this request's requirement", async () => {
    const account = await funded(100n);
    const { header } = await exactSignature(account, "/echodyn/7");
    const res = await request("/echodyn/8", { headers: { "PAYMENT-SIGNATURE": header } });
    expect(res.status).toBe(402);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("payment_requirements_mismatch");
    expect(await tokenBalance(account.address)).toBe(100n);
  });

  it("a handler that fails is not settled: its error goes out, nothing is charged", async () => {
    const account = await funded(100n);
    // A metered route's `exact` payment is its maximum; this request's handler answers 400.
    const { header } = await exactSignature(account, "/metered/not-a-number");
    const res = await request("/metered/not-a-number", { headers: { "PAYMENT-SIGNATURE": header } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("bad_request");
    expect(res.headers.get("PAYMENT-RESPONSE")).toBeNull();
    expect(await tokenBalance(account.address)).toBe(100n);
  });

  it("a failed settlement withholds the content with a 402 and moves nothing", async () => {
    const account = await funded(100n);
    const before = await tokenBalance(receiver.address);
    const { header } = await exactSignature(account, "/echofix/secret");
    // The facilitator cannot pay gas: /verify (a simulation) passes, /settle cannot send.
    await rpcCall(chain.rpcUrl, "anvil_setBalance", [facilitator.address, "0x0"]);
    let res: Response;
    try {
      res = await request("/echofix/secret", { headers: { "PAYMENT-SIGNATURE": header } });
    } finally {
      await rpcCall(chain.rpcUrl, "anvil_setBalance", [facilitator.address, "0x3635C9ADC5DEA00000"]);
    }
    expect(res.status).toBe(402);
    const text = await res.text();
    expect(text).not.toContain("secret");
    expect((JSON.parse(text) as { error: { code: string } }).error.code).toBe("settlement_failed");
    expect(offerOf(res).error).toBe("settlement_failed");
    expect(decodePaymentResponseHeader(res.headers.get("PAYMENT-RESPONSE")!).success).toBe(false);
    expect(await tokenBalance(receiver.address)).toBe(before);
    expect(await tokenBalance(account.address)).toBe(100n);
  });
});

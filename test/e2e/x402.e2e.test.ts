// x402 v2 end to end on the `npm start` stack (anvil, the local x402 facilitator, wrangler dev),
// paid by x402's own client packages: (a) stock @x402/fetch with @x402/evm's `exact` client pays
// through the facilitator, the receiver's tokens grow by the price and the receipt names a
// mined transaction; (b) @x402/fetch with edge402's `channel` scheme pays 100 requests with one
// on-chain transaction (the channel's opening, with permit), proofs and sessions after it;
// (c) malformed and foreign `PAYMENT-SIGNATURE`s are refused with a JSON error and change
// nothing; (d) a request with both `RDN-*` and `PAYMENT-SIGNATURE` is judged by `RDN-*` alone.
import { x402Client } from "@x402/core/client";
import {
  decodePaymentRequiredHeader,
  decodePaymentResponseHeader,
  encodePaymentSignatureHeader,
} from "@x402/core/http";
import type { PaymentRequirements } from "@x402/core/types";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import { createPublicClient, createWalletClient, http, type Address, type PublicClient } from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANVIL_KEYS, rpc } from "../../scripts/anvil.js";
import { startStack, type Stack } from "../../scripts/stack.js";
import { rpcChain } from "../../src/client/chain.js";
import { testTokenAbi } from "../../src/protocol/abi.js";
import { encodeProofHeaders } from "../../src/protocol/codec.js";
import { signBalanceProof } from "../../src/protocol/sign.js";
import { channelScheme, type ChannelScheme } from "../../src/x402/index.js";

const TOKENS = 1_000_000n;
const PRICE = 5n;

let stack: Stack;
let pub: PublicClient;
let network: `eip155:${number}`;

beforeAll(async () => {
  stack = await startStack();
  network = `eip155:${stack.chainId}`;
  pub = createPublicClient({
    chain: rpcChain(stack.chainId, stack.rpcUrl),
    transport: http(stack.rpcUrl),
  }) as PublicClient;
});

afterAll(async () => {
  await stack?.stop();
});

const tokenBalance = (who: Address) =>
  pub.readContract({ address: stack.token, abi: testTokenAbi, functionName: "balanceOf", args: [who] });

/** A fresh key with ether for gas and TOKENS test tokens minted to it by another account, so
 *  its own transaction count starts at 0. */
async function fundedAccount(): Promise<PrivateKeyAccount> {
  const account = privateKeyToAccount(generatePrivateKey());
  await rpc(stack.rpcUrl, "anvil_setBalance", [account.address, "0x56BC75E2D63100000"]);
  const minter = privateKeyToAccount(ANVIL_KEYS[0]!);
  const wallet = createWalletClient({ account: minter, transport: http(stack.rpcUrl) });
  const hash = await wallet.writeContract({
    address: stack.token,
    abi: testTokenAbi,
    functionName: "mint",
    args: [account.address, TOKENS],
    chain: null,
  });
  await pub.waitForTransactionReceipt({ hash });
  return account;
}

/** x402's spend controls allow only known assets: our test token, up to `max` per payment. */
const allowToken = (max: bigint) => ({
  allowedAssets: [{ network, asset: stack.token, maxAmountPerPayment: max.toString() }],
});

async function serverChannel(sender: Address, openBlock: number) {
  const res = await fetch(`${stack.url}/api/1/channels/${sender}/${openBlock}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, string>;
}

describe("(a) stock @x402/fetch with the exact client", () => {
  it("pays /echofix/x through the facilitator: the receiver gets the price, the receipt names a mined transaction", async () => {
    const payer = await fundedAccount();
    const client = new x402Client().register(network, new ExactEvmScheme(payer)).setSpendControls(allowToken(PRICE));
    const pay = wrapFetchWithPayment(fetch, client);
    const before = await tokenBalance(stack.receiver);

    const res = await pay(`${stack.url}/echofix/x`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("x");
    const receipt = decodePaymentResponseHeader(res.headers.get("PAYMENT-RESPONSE")!);
    expect(receipt).toMatchObject({ success: true, payer: payer.address, network });
    const mined = await pub.getTransactionReceipt({ hash: receipt.transaction as `0x${string}` });
    expect(mined.status).toBe("success");
    expect(mined.from.toLowerCase()).toBe(stack.facilitator.address.toLowerCase());
    expect(await tokenBalance(stack.receiver)).toBe(before + PRICE);
    expect(await tokenBalance(payer.address)).toBe(TOKENS - PRICE);
  });
});

describe("x402 with the channel scheme", () => {
  let payer: PrivateKeyAccount;
  let scheme: ChannelScheme;
  let openBlock: number;

  beforeAll(async () => {
    payer = await fundedAccount();
    // A deposit of 200 prices: the 100 requests and the proofs of (c) and (d) fit in it.
    scheme = channelScheme({
      account: payer,
      rpcUrl: stack.rpcUrl,
      pollingInterval: 100,
      prepay: true,
      deposit: { multiple: 200 },
    });
  });

  it("(b) @x402/fetch pays 100 requests through one channel: one on-chain transaction, then proofs and sessions", async () => {
    const client = new x402Client().register("eip155:*", scheme).setSpendControls(allowToken(PRICE));
    const pay = wrapFetchWithPayment(fetch, client);
    const receiverBefore = await tokenBalance(stack.receiver);
    const nonceBefore = await pub.getTransactionCount({ address: payer.address });
    const kinds = { proof: 0, session: 0 };
    client.onAfterPaymentCreation(async ({ paymentPayload }) => {
      kinds["session" in paymentPayload.payload ? "session" : "proof"]++;
    });

    for (let i = 0; i < 100; i++) {
      const res = await pay(`${stack.url}/echofix/r${i}`);
      expect(res.status, `request ${i}`).toBe(200);
      expect(await res.text()).toBe(`r${i}`);
      const receipt = decodePaymentResponseHeader(res.headers.get("PAYMENT-RESPONSE")!);
      expect(receipt).toMatchObject({ success: true, payer: payer.address, transaction: "" });
    }

    expect((await pub.getTransactionCount({ address: payer.address })) - nonceBefore).toBe(1);
    const [channel, ...others] = await scheme.channels();
    expect(others).toEqual([]);
    openBlock = channel!.openBlock;
    const server = await serverChannel(payer.address, openBlock);
    expect(BigInt(server.balance!) - BigInt(server.credit!)).toBe(100n * PRICE);
    // Prepay signs ten prices a proof: ten proofs, ninety sessions.
    expect(kinds).toEqual({ proof: 10, session: 90 });
    expect(scheme.spent()).toBe(100n * PRICE);
    // Nothing moved on chain to the receiver: the channel holds it until a withdraw or close.
    expect(await tokenBalance(stack.receiver)).toBe(receiverBefore);
  });

  it("(c) a malformed or wrong-scheme PAYMENT-SIGNATURE gets 400/402 with a JSON error and changes nothing", async () => {
    const before = await serverChannel(payer.address, openBlock);
    const offer = decodePaymentRequiredHeader((await fetch(`${stack.url}/echofix/c`)).headers.get("PAYMENT-REQUIRED")!);
    const channel = offer.accepts[0] as PaymentRequirements;
    const balance = BigInt(before.balance!) + PRICE;
    const signature = await signBalanceProof(payer, {
      chainId: stack.chainId,
      contract: stack.contract,
      receiver: stack.receiver,
      openBlock,
      balance,
    });
    const proof = { sender: payer.address, openBlock: String(openBlock), balance: balance.toString(), signature };
    const sig = (accepted: PaymentRequirements, payload: Record<string, unknown>) =>
      encodePaymentSignatureHeader({ x402Version: 2, accepted, payload });
    const cases: Array<[string, string, number, string]> = [
      ["garbage", "not base64!", 400, "malformed_payment_signature"],
      [
        "a channel payload missing its signature",
        sig(channel, { ...proof, signature: undefined }),
        400,
        "malformed_payment_signature",
      ],
      ["a proof under another scheme", sig({ ...channel, scheme: "upto" }, proof), 402, "unsupported_payment_scheme"],
      [
        "a proof to another receiver",
        sig({ ...channel, payTo: payer.address }, proof),
        402,
        "payment_requirements_mismatch",
      ],
      ["a proof as an exact payload", sig(offer.accepts[1]!, proof), 402, "payment_invalid"],
    ];
    for (const [what, header, status, code] of cases) {
      const res = await fetch(`${stack.url}/echofix/c`, { headers: { "PAYMENT-SIGNATURE": header } });
      expect(res.status, what).toBe(status);
      expect(res.headers.get("content-type"), what).toContain("application/json");
      expect(((await res.json()) as { error: { code: string } }).error.code, what).toBe(code);
    }
    expect(await serverChannel(payer.address, openBlock)).toEqual(before);
  });

  it("(d) a request with both RDN-* and PAYMENT-SIGNATURE is judged by RDN-* only", async () => {
    const before = await serverChannel(payer.address, openBlock);
    const offer = decodePaymentRequiredHeader((await fetch(`${stack.url}/echofix/d`)).headers.get("PAYMENT-REQUIRED")!);
    const sign = (balance: bigint) =>
      signBalanceProof(payer, {
        chainId: stack.chainId,
        contract: stack.contract,
        receiver: stack.receiver,
        openBlock,
        balance,
      });
    const held = BigInt(before.balance!);
    // A stale RDN-* proof (the balance the server holds) beside a good x402 proof above it.
    const stale = encodeProofHeaders({ sender: payer.address, openBlock, balance: held, signature: await sign(held) });
    const good = held + 50n;
    const x402 = encodePaymentSignatureHeader({
      x402Version: 2,
      accepted: offer.accepts[0]!,
      payload: {
        sender: payer.address,
        openBlock: String(openBlock),
        balance: good.toString(),
        signature: await sign(good),
      },
    });
    const refused = await fetch(`${stack.url}/echofix/d`, { headers: { ...stale, "PAYMENT-SIGNATURE": x402 } });
    expect(refused.status).toBe(402);
    expect(refused.headers.get("RDN-Invalid-Amount")).toBe("1");
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("invalid_amount");
    expect(await serverChannel(payer.address, openBlock)).toEqual(before);

    // A good RDN-* proof beside a garbage PAYMENT-SIGNATURE: paid by the proof, no x402 receipt.
    const next = held + PRICE;
    const paid = await fetch(`${stack.url}/echofix/d`, {
      headers: {
        ...encodeProofHeaders({ sender: payer.address, openBlock, balance: next, signature: await sign(next) }),
        "PAYMENT-SIGNATURE": "garbage",
      },
    });
    expect(paid.status).toBe(200);
    expect(await paid.text()).toBe("d");
    expect(paid.headers.get("PAYMENT-RESPONSE")).toBeNull();
    expect((await serverChannel(payer.address, openBlock)).balance).toBe(next.toString());
  });

  it("a scheme that lost its store recovers the channel from the chain and the server's refusal, paying with no new transaction", async () => {
    const nonceBefore = await pub.getTransactionCount({ address: payer.address });
    const fresh = channelScheme({ account: payer, rpcUrl: stack.rpcUrl, pollingInterval: 100 });
    const client = new x402Client().register("eip155:*", fresh).setSpendControls(allowToken(PRICE));
    const held = BigInt((await serverChannel(payer.address, openBlock)).balance!);
    // Its first proof starts from what the chain knows (nothing withdrawn); the server refuses it
    // with its balance in the offer, the scheme takes that balance as ours and pays above it.
    const res = await wrapFetchWithPayment(fetch, client)(`${stack.url}/echofix/again`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("again");
    expect((await serverChannel(payer.address, openBlock)).balance).toBe((held + PRICE).toString());
    expect(await pub.getTransactionCount({ address: payer.address })).toBe(nonceBefore);
  });
});

// End-to-end in real Chromium: a person pays on the 402 page with a wallet. The `npm start`
// stack (anvil + contracts + the Worker under wrangler dev) serves the pages; the wallet is
// an EIP-1193 provider injected into the page that forwards to anvil, so anvil signs and sends
// for real (test/helpers/browser-wallet.ts). Nothing of the paywall or the chain is mocked.
// Covers: no wallet, the first visit (one click: permit, deposit, proof, the resource shown at
// the same URL), a second URL served by the session cookie with no click, credit running out
// (one signature), a reload (nothing paid twice), a refused signature (nothing paid, and a
// channel opened before it is reused), too few tokens, a failed transaction, the wrong chain,
// and "Close and refund"
// (the unspent deposit back on chain). With UPDATE_SCREENSHOTS=1 it saves the 402 page and the
// paid page as docs/img/paywall-402.png and paywall-paid.png (the README shows them).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import {
  createPublicClient,
  createWalletClient,
  encodeFunctionData,
  http,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { microTransferChannelsAbi, testTokenAbi } from "../../src/protocol/abi.js";
import { ANVIL_ADDRESSES, ANVIL_KEYS } from "../../scripts/anvil.js";
import { startStack, type Stack } from "../../scripts/stack.js";
import { launchChromium } from "../helpers/chromium.js";
import { TestWallet, type WalletOptions } from "../helpers/browser-wallet.js";

const IMG_DIR = join(dirname(fileURLToPath(import.meta.url)), "../../docs/img");
/** Takes a screenshot; saves it under docs/img only when asked (it shows a random port). */
async function screenshot(page: Page, name: string): Promise<void> {
  const png = await page.screenshot();
  expect(png.length).toBeGreaterThan(0);
  if (process.env.UPDATE_SCREENSHOTS !== "1") return;
  mkdirSync(IMG_DIR, { recursive: true });
  writeFileSync(join(IMG_DIR, name), png);
}
const FUNDS = 1_000_000n;
/** The price of /article and /echofix, and the deposit the page opens a channel with (100 requests). */
const PRICE = 5n;
const DEPOSIT = PRICE * 100n;

// anvil's accounts 6 to 9, used by no other test: the payer, a refuser, one without tokens, and
// one whose proof prompt is refused after its channel opened.
const PAYER = ANVIL_ADDRESSES[6]!;
const REFUSER = ANVIL_ADDRESSES[7]!;
const PENNILESS = ANVIL_ADDRESSES[8]!;
const INTERRUPTED = ANVIL_ADDRESSES[9]!;
/** anvil's account 5: its tokens leave between the page's balance check and its transaction. */
const DRAINED = ANVIL_ADDRESSES[5]!;

let stack: Stack;
let chromium: { context: BrowserContext; close(): Promise<void> };
let pub: PublicClient;

beforeAll(async () => {
  stack = await startStack({ env: { FREE_CAPACITY: "1000000", PAID_CAPACITY: "1000000" }, scheduledEveryMs: 2_000 });
  pub = createPublicClient({ transport: http(stack.rpcUrl) }) as PublicClient;
  const minter = createWalletClient({ account: privateKeyToAccount(ANVIL_KEYS[0]!), transport: http(stack.rpcUrl) });
  for (const to of [PAYER, REFUSER, INTERRUPTED, DRAINED]) {
    const hash = await minter.writeContract({
      address: stack.token,
      abi: testTokenAbi,
      functionName: "mint",
      args: [to, FUNDS],
      chain: null,
    });
    await pub.waitForTransactionReceipt({ hash });
  }
  chromium = await launchChromium();
});

afterAll(async () => {
  await chromium?.close();
  await stack?.stop();
});

const tokens = (owner: Address) =>
  pub.readContract({ address: stack.token, abi: testTokenAbi, functionName: "balanceOf", args: [owner] });

/** The open blocks of every channel `sender` opened (ChannelCreated on chain). */
async function channelsOf(sender: Address): Promise<number[]> {
  const logs = await pub.getContractEvents({
    address: stack.contract,
    abi: microTransferChannelsAbi,
    eventName: "ChannelCreated",
    args: { sender },
    fromBlock: 0n,
    strict: true,
  });
  return logs.map((l) => Number(l.args.openBlock));
}

async function serverChannel(sender: Address, openBlock: number) {
  const res = await fetch(`${stack.url}/api/1/channels/${sender}/${openBlock}`);
  expect(res.status).toBe(200);
  return (await res.json()) as { state: string; deposit: string; balance: string; charged: string; credit: string };
}

/** A new page with a wallet for `account` (none when null), and fresh cookies for the site. */
async function openPage(
  account: Address | null,
  opts: Partial<WalletOptions> = {},
): Promise<{ page: Page; wallet: TestWallet | null }> {
  await chromium.context.clearCookies();
  const page = await chromium.context.newPage();
  let wallet: TestWallet | null = null;
  if (account) {
    wallet = new TestWallet({ rpcUrl: stack.rpcUrl, account, ...opts });
    await wallet.install(page);
  }
  return { page, wallet };
}

const payButton = (page: Page) => page.getByRole("button", { name: /^Pay/ });
const alertOf = (page: Page) => page.getByRole("alert");

describe("paying in the browser", () => {
  it("without a wallet, Pay says there is none", async () => {
    const { page } = await openPage(null);
    // The token's facts arrive only after the click (a slow network): the button works before.
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    await page.route("**/api/1/token", async (route) => {
      await held;
      await route.continue();
    });
    const res = await page.goto(`${stack.url}/echofix/nowallet`);
    expect(res?.status()).toBe(402);
    await payButton(page).click();
    await expect.poll(() => alertOf(page).textContent()).toContain("No wallet found");
    release();
    await page.close();
  });

  describe("one person's visits", () => {
    let page: Page;
    let wallet: TestWallet;
    let openBlock: number;

    it("the first visit pays with one click and shows the resource at the same URL", async () => {
      ({ page, wallet } = (await openPage(PAYER)) as { page: Page; wallet: TestWallet });
      const before = await tokens(PAYER);
      const url = `${stack.url}/article/hello`;
      const res = await page.goto(url);
      expect(res?.status()).toBe(402);
      await expect.poll(() => payButton(page).textContent()).toBe("Pay 0.000000000000000005 E402T");
      expect(await page.locator("#edge402-price").textContent()).toBe("0.000000000000000005 E402T");
      expect(await page.locator("#edge402-deposit").textContent()).toBe("0.0000000000000005 E402T");
      await screenshot(page, "paywall-402.png");

      await payButton(page).click();
      // The article's own HTML replaces the 402 page, at the same URL.
      await expect.poll(() => page.locator("h1").textContent({ timeout: 60_000 }), { timeout: 60_000 }).toBe("hello");
      expect(page.url()).toBe(url);
      expect(await page.locator("#edge402-data").count()).toBe(0);
      expect(await page.title()).toBe("hello");
      await screenshot(page, "paywall-paid.png");
      // One account prompt, the permit and the proof signed, one transaction.
      expect(wallet.count("eth_requestAccounts")).toBe(1);
      expect(wallet.count("eth_signTypedData_v4")).toBe(2);
      expect(wallet.count("eth_sendTransaction")).toBe(1);

      const opened = await channelsOf(PAYER);
      expect(opened).toHaveLength(1);
      openBlock = opened[0]!;
      expect(await tokens(PAYER)).toBe(before - DEPOSIT);
      // 20 requests paid ahead, one of them charged.
      expect(await serverChannel(PAYER, openBlock)).toMatchObject({
        state: "open",
        deposit: DEPOSIT.toString(),
        balance: (PRICE * 20n).toString(),
        charged: PRICE.toString(),
      });
    });

    it("sets the session cookie: HttpOnly, SameSite=Lax, path /, not Secure on 127.0.0.1", async () => {
      const cookies = await chromium.context.cookies(stack.url);
      const session = cookies.find((c) => c.name === "RDN-Session");
      expect(session).toMatchObject({ httpOnly: true, sameSite: "Lax", path: "/", secure: false });
    });

    it("a second URL is served with no click", async () => {
      const prompts = wallet.calls.length;
      const res = await page.goto(`${stack.url}/echofix/second`);
      expect(res?.status()).toBe(200);
      expect(await page.textContent("body")).toBe("second");
      expect(wallet.calls.length).toBe(prompts);
      expect(await serverChannel(PAYER, openBlock)).toMatchObject({
        balance: (PRICE * 20n).toString(),
        charged: (PRICE * 2n).toString(),
      });
    });

    it("when the credit runs out the page asks for one signature and shows the resource", async () => {
      const signatures = wallet.count("eth_signTypedData_v4");
      // 91 is more than the 90 of credit left.
      const res = await page.goto(`${stack.url}/echodyn/91`);
      expect(res?.status()).toBe(402);
      await expect.poll(() => page.locator("pre").textContent({ timeout: 60_000 }), { timeout: 60_000 }).toBe("91");
      expect(wallet.count("eth_signTypedData_v4")).toBe(signatures + 1);
      expect(wallet.count("eth_sendTransaction")).toBe(1);
      expect(wallet.count("eth_requestAccounts")).toBe(1);
      // The new proof prepays what the deposit allows: 10 + 20 × 91 is past it.
      expect(await serverChannel(PAYER, openBlock)).toMatchObject({
        balance: DEPOSIT.toString(),
        charged: (PRICE * 2n + 91n).toString(),
      });
    });

    it("a reload after payment pays nothing twice", async () => {
      const calls = [...wallet.calls];
      const before = await tokens(PAYER);
      const res = await page.reload();
      expect(res?.status()).toBe(200);
      expect(await page.textContent("body")).toBe("91");
      expect(wallet.calls.filter((m) => m !== "eth_accounts")).toEqual(calls.filter((m) => m !== "eth_accounts"));
      expect(await tokens(PAYER)).toBe(before);
      expect(await channelsOf(PAYER)).toEqual([openBlock]);
      // Served from the prepaid credit: the signed balance did not move.
      expect((await serverChannel(PAYER, openBlock)).balance).toBe(DEPOSIT.toString());
    });

    it("Close and refund closes the channel on chain and returns the unspent deposit", async () => {
      const before = await tokens(PAYER);
      const { charged } = await serverChannel(PAYER, openBlock);
      await page.goto(`${stack.url}/api/1/wallet`);
      await expect.poll(() => page.getByRole("status").textContent()).toContain("closing returns");
      await page.getByRole("button", { name: "Close and refund" }).click();
      await expect.poll(() => page.getByRole("status").textContent(), { timeout: 60_000 }).toContain("Channel closed");
      expect(await alertOf(page).textContent()).toBe("");
      expect(await tokens(PAYER)).toBe(before + DEPOSIT - BigInt(charged));
      await expect(
        pub.readContract({
          address: stack.contract,
          abi: microTransferChannelsAbi,
          functionName: "getChannelInfo",
          args: [PAYER, stack.receiver, openBlock],
        }),
      ).rejects.toThrow();
      await page.close();
    });
  });

  it("a refused signature shows the message and pays nothing", async () => {
    const { page, wallet } = (await openPage(REFUSER)) as { page: Page; wallet: TestWallet };
    wallet.signatures = ["reject"];
    const before = await tokens(REFUSER);
    await page.goto(`${stack.url}/echofix/refused`);
    await payButton(page).click();
    await expect.poll(() => alertOf(page).textContent()).toContain("You rejected the request in your wallet");
    expect((await alertOf(page).getAttribute("data-kind")) ?? "").toBe("rejected");
    expect(wallet.count("eth_sendTransaction")).toBe(0);
    expect(await tokens(REFUSER)).toBe(before);
    expect(await channelsOf(REFUSER)).toEqual([]);
    await page.close();
  });

  it("a channel opened before a refused proof is reused after a reload: no second deposit", async () => {
    const { page, wallet } = (await openPage(INTERRUPTED)) as { page: Page; wallet: TestWallet };
    const before = await tokens(INTERRUPTED);
    const url = `${stack.url}/echofix/interrupted`;
    await page.goto(url);
    // The permit is signed and the channel opened; the proof's prompt is refused.
    wallet.signatures = ["sign", "reject"];
    await payButton(page).click();
    await expect.poll(() => alertOf(page).textContent(), { timeout: 60_000 }).toContain("rejected");
    expect(wallet.count("eth_sendTransaction")).toBe(1);
    expect(await channelsOf(INTERRUPTED)).toHaveLength(1);

    // The reload finds the remembered channel and pays on it at once (the account is allowed):
    // one signature prompt, no click, no transaction.
    const signatures = wallet.count("eth_signTypedData_v4");
    const res = await page.reload();
    expect(res?.status()).toBe(402);
    await expect
      .poll(() => page.locator("pre").textContent({ timeout: 60_000 }), { timeout: 60_000 })
      .toBe("interrupted");
    expect(wallet.count("eth_signTypedData_v4")).toBe(signatures + 1);
    expect(wallet.count("eth_sendTransaction")).toBe(1);
    expect(await channelsOf(INTERRUPTED)).toHaveLength(1);
    expect(await tokens(INTERRUPTED)).toBe(before - DEPOSIT);
    await page.close();
  });

  it("too few tokens: says so before any prompt to sign or send", async () => {
    const { page, wallet } = (await openPage(PENNILESS)) as { page: Page; wallet: TestWallet };
    await page.goto(`${stack.url}/echofix/poor`);
    await payButton(page).click();
    await expect.poll(() => alertOf(page).textContent()).toContain("less than the 0.0000000000000005 E402T deposit");
    expect((await alertOf(page).getAttribute("data-kind")) ?? "").toBe("insufficient_balance");
    expect(wallet.count("eth_signTypedData_v4")).toBe(0);
    expect(wallet.count("eth_sendTransaction")).toBe(0);
    await page.close();
  });

  it("a transaction that fails shows the message and leaves no channel", async () => {
    const { page, wallet } = (await openPage(DRAINED)) as { page: Page; wallet: TestWallet };
    // After the page checked the balance and the permit was signed, the tokens leave the account
    // (a real transfer on anvil): the deposit transaction can only revert.
    wallet.beforeSend = async () => {
      const res = await fetch(stack.rpcUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "eth_sendTransaction",
          params: [
            {
              from: DRAINED,
              to: stack.token,
              data: encodeFunctionData({ abi: testTokenAbi, functionName: "transfer", args: [PAYER, FUNDS] }),
            },
          ],
        }),
      });
      const { result } = (await res.json()) as { result: Hex };
      await pub.waitForTransactionReceipt({ hash: result });
    };
    await page.goto(`${stack.url}/echofix/drained`);
    await payButton(page).click();
    await expect.poll(() => alertOf(page).getAttribute("data-kind"), { timeout: 60_000 }).toBe("transaction_failed");
    expect(await alertOf(page).textContent()).toMatch(
      /^The transaction \(the channel's deposit, 0x[0-9a-f]{64}\) failed on chain; nothing was paid\.$/,
    );
    // Nothing left to wait for after a reload.
    const remembered = await page.evaluate(() => Object.keys(localStorage));
    expect(remembered.filter((k) => k.endsWith(DRAINED.toLowerCase()))).toEqual([]);
    expect(await tokens(DRAINED)).toBe(0n);
    expect(await channelsOf(DRAINED)).toEqual([]);
    await page.close();
  });

  it("a wallet on another chain that will not switch gets a clear message (window.ethereum)", async () => {
    const { page, wallet } = (await openPage(PENNILESS, {
      discovery: "window.ethereum",
      chainId: 1,
      refuseSwitch: true,
    })) as { page: Page; wallet: TestWallet };
    await page.goto(`${stack.url}/echofix/chain`);
    await payButton(page).click();
    await expect.poll(() => alertOf(page).textContent()).toContain(`Switch your wallet to chain ${stack.chainId}`);
    expect((await alertOf(page).getAttribute("data-kind")) ?? "").toBe("wrong_chain");
    expect(wallet.count("wallet_switchEthereumChain")).toBe(1);
    expect(wallet.count("eth_signTypedData_v4")).toBe(0);
    await page.close();
  });
});

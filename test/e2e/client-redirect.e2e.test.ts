// The client SDK and redirects, against the local stack (anvil + wrangler dev) with its proxied
// route pointed at a small real origin (node:http) that redirects where a test asks and echoes
// the headers it receives. A paid request whose answer redirects to another origin must reach
// it without any payment header; a redirect to another priced route is paid only through that
// route's own 402, under the budgets; the caller's `redirect: "manual"` and `"error"` are kept;
// and a redirect loop ends after 20 hops.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createPublicClient, createWalletClient, defineChain, http, type Address, type Chain, type PublicClient } from "viem";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rpc } from "../../scripts/anvil.js";
import { startStack, type Stack } from "../../scripts/stack.js";
import { testTokenAbi } from "../../src/protocol/abi.js";
import { createEdge402Client, Edge402Error, type Edge402ClientOptions, type PaymentReceipt } from "../../src/client/index.js";

/** The origin: `.../jump?to=URL&status=N` redirects, `/loop` redirects to itself, anything else
 * echoes its request headers; every request's headers are kept in `seen`. */
function startOrigin(): Promise<{ url: string; server: Server; seen: Array<{ path: string; headers: IncomingMessage["headers"] }> }> {
  const seen: Array<{ path: string; headers: IncomingMessage["headers"] }> = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://origin.invalid");
    seen.push({ path: url.pathname, headers: req.headers });
    if (url.pathname.endsWith("/jump")) {
      res.writeHead(Number(url.searchParams.get("status") ?? "302"), { location: url.searchParams.get("to") ?? "/" });
      res.end();
    } else if (url.pathname === "/loop") {
      res.writeHead(302, { location: "/loop" });
      res.end();
    } else {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ path: url.pathname, headers: req.headers }));
    }
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, seen })),
  );
}

describe("client SDK and redirects", () => {
  let stack: Stack;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let chain: Chain;
  let pub: PublicClient;

  async function fundedAccount(): Promise<PrivateKeyAccount> {
    const account = privateKeyToAccount(generatePrivateKey());
    await rpc(stack.rpcUrl, "anvil_setBalance", [account.address, "0x56BC75E2D63100000"]);
    const wallet = createWalletClient({ account, chain, transport: http(stack.rpcUrl) });
    const hash = await wallet.writeContract({ address: stack.token, abi: testTokenAbi, functionName: "mint", args: [account.address, 1_000_000n], chain });
    await pub.waitForTransactionReceipt({ hash });
    return account;
  }

  function client(account: PrivateKeyAccount, extra: Partial<Edge402ClientOptions> = {}) {
    const receipts: PaymentReceipt[] = [];
    const sdk = createEdge402Client({ account, rpcUrl: stack.rpcUrl, pollingInterval: 100, afterPay: (r) => void receipts.push(r), ...extra });
    return { sdk, receipts };
  }

  async function serverBalance(sender: Address, openBlock: number): Promise<string> {
    const res = await fetch(`${stack.url}/api/1/channels/${sender}/${openBlock}`);
    return ((await res.json()) as { balance: string }).balance;
  }

  const jump = (to: string, status = 302) => `${stack.url}/origin/jump?to=${encodeURIComponent(to)}&status=${status}`;
  const paymentHeaders = (headers: IncomingMessage["headers"]) => Object.keys(headers).filter((h) => h.startsWith("rdn-") || h === "payment-signature");

  beforeAll(async () => {
    origin = await startOrigin();
    stack = await startStack({
      env: { FREE_CAPACITY: "1000", PAID_CAPACITY: "10000", ORIGIN_URL: origin.url, PROXY_ROUTES: JSON.stringify([{ path: "/origin/*", method: "GET", price: "3" }]) },
    });
    chain = defineChain({ id: stack.chainId, name: "anvil", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [stack.rpcUrl] } } });
    pub = createPublicClient({ chain, transport: http(stack.rpcUrl) }) as PublicClient;
  });

  afterAll(async () => {
    await stack?.stop();
    await new Promise<void>((resolve) => (origin ? origin.server.close(() => resolve()) : resolve()));
  });

  it("follows a paid request's redirect to another origin without any payment header", async () => {
    const { sdk, receipts } = client(await fundedAccount());
    for (const status of [302, 307]) {
      const res = await sdk.fetch(jump(`${origin.url}/landing`, status), { headers: { authorization: "Bearer secret", "x-mine": "1" } });
      expect(res.status).toBe(200);
      const landed = (await res.json()) as { path: string; headers: Record<string, string> };
      expect(landed.path).toBe("/landing");
      expect(paymentHeaders(landed.headers)).toEqual([]);
      // Credentials stay with the origin they were meant for; the caller's other headers go on.
      expect(landed.headers.authorization).toBeUndefined();
      expect(landed.headers["x-mine"]).toBe("1");
    }
    // Both paid routes were paid once each, and the landing page was not paid at all.
    expect(receipts.map((r) => r.cost)).toEqual([3n, 3n]);
    expect(origin.seen.filter((s) => s.path === "/landing").flatMap((s) => paymentHeaders(s.headers))).toEqual([]);
  });

  it("pays a redirect to another priced route only through its own 402, under the budget", async () => {
    const account = await fundedAccount();
    const capped = client(account, { maxSpend: { perRequest: 5n, total: 3n } });
    const err = await capped.sdk.fetch(jump(`${stack.url}/echofix/next`)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Edge402Error);
    expect((err as Edge402Error).code).toBe("budget_exceeded");
    const [paid] = capped.receipts;
    expect(capped.receipts).toHaveLength(1);
    expect(await serverBalance(account.address, paid!.channel.openBlock)).toBe("3");

    // With room in the budget the hop is paid at its own price, once.
    const roomy = client(account, { maxSpend: { perRequest: 5n, total: 100n } });
    const res = await roomy.sdk.fetch(jump(`${stack.url}/echofix/next`));
    expect([res.status, await res.text()]).toEqual([200, "next"]);
    expect(roomy.receipts.map((r) => r.cost)).toEqual([3n, 5n]);
  });

  it("keeps the caller's redirect mode: manual returns the redirect, error throws", async () => {
    const { sdk, receipts } = client(await fundedAccount());
    const manual = await sdk.fetch(jump(`${origin.url}/landing`), { redirect: "manual" });
    expect([manual.status, manual.headers.get("location")]).toEqual([302, `${origin.url}/landing`]);
    expect(manual.headers.get("RDN-Session")).not.toBeNull();
    await expect(sdk.fetch(jump(`${origin.url}/landing`), { redirect: "error" })).rejects.toThrow(TypeError);
    expect(receipts).toHaveLength(2);
  });

  it("stops a redirect loop after 20 hops", async () => {
    const { sdk } = client(await fundedAccount());
    const before = origin.seen.length;
    await expect(sdk.fetch(`${origin.url}/loop`)).rejects.toThrow(/redirect/);
    expect(origin.seen.length - before).toBe(21);
  });
});

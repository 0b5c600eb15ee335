// The entry of the page's script (bundled by scripts/build-web.ts into the one asset the Worker
// serves): reads the data the Worker put in the page, starts wallet discovery, shows amounts in
// token units and wires the page's action: "Pay" on a 402 page, "Close and refund" on the
// wallet page. A 402 page also pays at once, without a click, when this browser already has a
// channel with this site for the account its wallet already allowed (one signature prompt when
// the credit has run out); otherwise it waits for the click.
import { formatUnits } from "viem";
import { RdnHeaders } from "../protocol/headers.js";
import { closeAndRefund, currentChannel } from "./close.js";
import type { Context } from "./context.js";
import { storeKey } from "./context.js";
import { PageError } from "./errors.js";
import { account, ensureChain } from "./eth.js";
import { readPageData, type PageData } from "./page-data.js";
import { pay } from "./pay.js";
import { serverChannel, tokenInfo, type TokenInfo } from "./server.js";
import { loadChannel } from "./store.js";
import { discoverWallets, findWallet } from "./wallet.js";

const NO_WALLET =
  "No wallet found in this browser. Install an Ethereum wallet (a browser extension) and reload this page, or pay with the edge402 command below.";

const data = readPageData(document);
if (data) void start(data);

function element<T extends HTMLElement>(id: string): T | null {
  return document.getElementById(id) as T | null;
}

/** What both pages share: amounts in token units, the status and error lines, and running an
 *  action with the wallet's account (buttons disabled meanwhile, errors shown). */
type Ui = {
  format: (amount: bigint) => string;
  status: (text: string) => void;
  /** The token's facts, once read. */
  token: () => Promise<TokenInfo | null>;
  withWallet: (ask: boolean, action: (ctx: Context) => Promise<void>) => Promise<void>;
};

function pageUi(data: PageData): Ui {
  const statusEl = element("edge402-status");
  const errorEl = element("edge402-error");
  const buttons = [element<HTMLButtonElement>("edge402-pay"), element<HTMLButtonElement>("edge402-close")];
  // Read once; the buttons work at once and wait for it (a click never falls on a page not ready).
  const tokenRead = tokenInfo(data.gatewayPath);
  let token: TokenInfo | null = null;
  const format = (amount: bigint) =>
    token ? `${formatUnits(amount, token.decimals)} ${token.symbol}` : `${amount} base units of the token`;
  const status = (text: string) => {
    if (statusEl) statusEl.textContent = text;
  };
  const fail = (err: unknown) => {
    const e =
      err instanceof PageError ? err : new PageError("failed", `Something went wrong: ${(err as Error).message}`);
    if (errorEl) {
      errorEl.textContent = e.message;
      errorEl.dataset.kind = e.kind;
    }
    status("");
  };
  const withWallet = async (ask: boolean, action: (ctx: Context) => Promise<void>) => {
    const wallet = findWallet();
    if (!wallet) {
      if (ask) fail(new PageError("no_wallet", NO_WALLET));
      return;
    }
    if (errorEl) errorEl.textContent = "";
    for (const b of buttons) if (b) b.disabled = true;
    try {
      token = await tokenRead;
      const sender = await account(wallet, ask);
      if (sender) await action({ data, wallet, sender, token, format, status });
    } catch (err) {
      fail(err);
    } finally {
      for (const b of buttons) if (b) b.disabled = false;
    }
  };
  return { format, status, withWallet, token: async () => (token = await tokenRead) };
}

async function start(data: PageData): Promise<void> {
  discoverWallets();
  const ui = pageUi(data);
  if (data.page === "pay") await payPage(data, ui);
  else await walletPage(data, ui);
}

/** The 402 page: "Pay", and paying at once from a channel this browser already has. */
async function payPage(data: PageData, ui: Ui): Promise<void> {
  const price = BigInt(data.headers?.[RdnHeaders.price] ?? "0");
  element("edge402-pay")?.addEventListener("click", () =>
    ui.withWallet(true, async (ctx) => {
      await ensureChain(ctx.wallet, data.chainId, true);
      await pay(ctx, price, true);
    }),
  );
  await ui.token();
  const set = (id: string, text: string) => {
    const el = element(id);
    if (el) el.textContent = text;
  };
  set("edge402-price", ui.format(price));
  set("edge402-deposit", ui.format(price * BigInt(data.depositRequests)));
  set("edge402-pay", `Pay ${ui.format(price)}`);
  // Already paying on this site from this browser: no click needed.
  await ui.withWallet(false, async (ctx) => {
    const named = data.headers?.[RdnHeaders.senderAddress]?.toLowerCase() === ctx.sender.toLowerCase();
    if (!loadChannel(storeKey(ctx))?.openBlock && !named) return;
    await ensureChain(ctx.wallet, data.chainId, false);
    if (!(await pay(ctx, price, false))) ui.status("");
  });
}

/** The wallet page: the person's channel with this site, and "Close and refund". */
async function walletPage(data: PageData, ui: Ui): Promise<void> {
  const { format } = ui;
  element("edge402-close")?.addEventListener("click", () =>
    ui.withWallet(true, async (ctx) => {
      await ensureChain(ctx.wallet, data.chainId, true);
      const { refund, paid } = await closeAndRefund(ctx);
      ui.status(`Channel closed: ${format(refund)} came back to your account; the site kept ${format(paid)}.`);
    }),
  );
  await ui.withWallet(false, async (ctx) => {
    await ensureChain(ctx.wallet, data.chainId, false);
    const openBlock = await currentChannel(ctx);
    const held = openBlock === null ? null : await serverChannel(data.gatewayPath, ctx.sender, openBlock);
    ui.status(
      held
        ? `Your channel (opened in block ${openBlock}): deposit ${format(held.deposit)}, spent ${format(held.charged)}; closing returns ${format(held.deposit - held.charged)}.`
        : `${ctx.sender} has no open channel with this site.`,
    );
  });
}

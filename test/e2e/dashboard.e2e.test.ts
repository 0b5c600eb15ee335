// End-to-end in real Chromium: the operator's dashboard at /admin on the `npm start` stack
// (anvil + contracts + the Worker under wrangler dev), paid by real channels on anvil. Covers the
// login (a wrong token refused, the cookie's attributes, a reload keeps the login), the Overview's
// figures against the admin API's (amounts exact in 18 decimals, paid requests from the traffic
// counters), a payment and a refusal made during the test showing up in Channels (with its last
// payment), the channel's detail and the traffic charts, a withdraw from the Actions view landing
// on chain, the Chain view, a phone-wide window, and logout. With UPDATE_SCREENSHOTS=1 it saves
// the views as docs/img/dashboard-*.png (the README shows them).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import type { Hex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../../scripts/stack.js";
import { launchChromium } from "../helpers/chromium.js";
import { E2EClient, type Channel } from "./client.js";

const IMG_DIR = join(dirname(fileURLToPath(import.meta.url)), "../../docs/img");
/** Takes a screenshot; saves it under docs/img only when asked. */
async function screenshot(page: Page, name: string): Promise<void> {
  const png = await page.screenshot({ fullPage: true });
  expect(png.length).toBeGreaterThan(0);
  if (process.env.UPDATE_SCREENSHOTS !== "1") return;
  mkdirSync(IMG_DIR, { recursive: true });
  writeFileSync(join(IMG_DIR, name), png);
}

/** How long the D1 projection and the traffic counters may take to show a payment. */
const PROJECTION = { timeout: 30_000, interval: 250 };

let stack: Stack;
let client: E2EClient;
let chromium: { context: BrowserContext; close(): Promise<void> };
let page: Page;
const DESKTOP = { width: 1280, height: 800 };
const channels: Channel[] = [];

/** An admin API answer, with the bearer token (what the dashboard's figures must equal). */
async function admin<T>(path: string): Promise<T> {
  const res = await fetch(`${stack.url}/api/1/admin${path}`, {
    headers: { authorization: `Bearer ${stack.adminToken}` },
  });
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

type Overview = Record<"earned" | "withdrawn" | "withdrawableNow" | "outstandingCredit" | "deposits", string> & {
  channels: Record<"open" | "closing" | "settled", number>;
  payments: { lastHour: number; lastDay: number } | null;
};

/** Exactly `base` base units in a token of 18 decimals. */
const units18 = (base: bigint) => {
  const s = base.toString().padStart(19, "0");
  const fraction = s.slice(-18).replace(/0+$/, "");
  return `${s.slice(0, -18)}${fraction ? `.${fraction}` : ""}`;
};

beforeAll(async () => {
  stack = await startStack({ env: { FREE_CAPACITY: "1000000", PAID_CAPACITY: "1000000" }, scheduledEveryMs: 2_000 });
  client = new E2EClient(stack);
  // Two senders: one paid 5 three times (charged 15), one prepaid 50 for a price of 5 (credit 45).
  const a = await client.newChannel(1_000n);
  for (const balance of [5n, 10n, 15n]) expect((await client.pay(a, balance)).status).toBe(200);
  const b = await client.newChannel(700n);
  expect((await client.pay(b, 50n)).status).toBe(200);
  channels.push(a, b);
  chromium = await launchChromium();
  page = await chromium.context.newPage();
  // A desktop window for the screenshots (the phone test narrows it).
  await page.setViewportSize(DESKTOP);
});

afterAll(async () => {
  await chromium?.close();
  await stack?.stop();
});

const adminCookies = async () =>
  (await chromium.context.cookies([`${stack.url}/admin`, `${stack.url}/api/1/admin`])).filter(
    (c) => c.name === "edge402-admin",
  );

describe("the operator's dashboard in Chromium", () => {
  it("refuses a wrong token: the form again with a message, and no cookie", async () => {
    const res = await page.goto(`${stack.url}/admin`);
    expect(res?.status()).toBe(200);
    await page.getByLabel("Admin token").fill("not-the-admin-token");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("That is not the admin token.");
    expect(await page.getByLabel("Admin token").count()).toBe(1);
    expect(await adminCookies()).toEqual([]);
    await screenshot(page, "dashboard-login.png");
  });

  it("logs in with the token once; the cookie is HttpOnly, SameSite=Strict, on /admin and /api/1/admin, not the token", async () => {
    await page.getByLabel("Admin token").fill(stack.adminToken);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("navigation", { name: "Views" }).waitFor();
    const cookies = await adminCookies();
    expect(cookies.map((c) => c.path).sort()).toEqual(["/admin", "/api/1/admin"]);
    const now = Date.now() / 1000;
    for (const c of cookies) {
      expect(c).toMatchObject({ httpOnly: true, sameSite: "Strict", secure: false, value: cookies[0]!.value });
      expect(c.value).not.toContain(stack.adminToken);
      expect(c.expires).toBeGreaterThan(now + 11 * 3600);
      expect(c.expires).toBeLessThanOrEqual(now + 12 * 3600 + 60);
    }
    // A script of the page cannot read it.
    expect(await page.evaluate(() => document.cookie)).not.toContain("edge402-admin");
    // The login survives a reload.
    await page.reload();
    await page.getByRole("navigation", { name: "Views" }).waitFor();
    expect(await page.getByLabel("Admin token").count()).toBe(0);
  });

  it("Overview shows exactly the admin API's figures", async () => {
    // The projection has caught up with the payments made before the test.
    await expect.poll(async () => (await admin<Overview>("/overview")).earned, PROJECTION).toBe("20");
    const api = await admin<Overview>("/overview");
    await page.goto(`${stack.url}/admin#overview`);
    const figures = {
      "#overview-earned": api.earned,
      "#overview-withdrawn": api.withdrawn,
      "#overview-withdrawable": api.withdrawableNow,
      "#overview-credit": api.outstandingCredit,
      "#overview-deposits": api.deposits,
    };
    for (const [id, base] of Object.entries(figures)) {
      const amount = page.locator(`${id} .amount`);
      await expect.poll(() => amount.getAttribute("data-base")).toBe(base);
      // Token units with every decimal: 20 base units are 0.00000000000000002, never 0.
      expect(await amount.textContent()).toBe(`${units18(BigInt(base))} E402T`);
    }
    expect(api).toMatchObject({ earned: "20", outstandingCredit: "45", deposits: "1700" });
    expect(await page.locator("#overview-open").textContent()).toBe(String(api.channels.open));
    expect(await page.locator("#overview-closing").textContent()).toBe(String(api.channels.closing));
    expect(await page.locator("#overview-settled").textContent()).toBe(String(api.channels.settled));
    await expect.poll(() => page.locator("#overview-payments-hour").textContent(), PROJECTION).toBe("4");
    expect(await page.locator("#overview-payments-day").textContent()).toBe("4");
    await screenshot(page, "dashboard-overview.png");
  });

  it("a payment made now shows up in Channels, its detail, and the traffic chart", async () => {
    await page.goto(`${stack.url}/admin#traffic`);
    const paidLine = page.locator("#chart-paid polyline");
    await expect.poll(() => paidLine.getAttribute("data-sum"), PROJECTION).toBe("4");

    const c = await client.newChannel(300n);
    channels.push(c);
    expect((await client.pay(c, 5n)).status).toBe(200);
    // And one refused: the same balance again is not above B (402 RDN-Invalid-Amount).
    const refused = await client.pay(c, 5n);
    expect(refused.status).toBe(402);
    expect(refused.headers.get("RDN-Invalid-Amount")).toBe("1");

    await page.goto(`${stack.url}/admin#channels`);
    await expect.poll(() => page.locator("tr[data-sender]").count(), PROJECTION).toBe(3);
    // Every column of exact amounts in 18 decimals fits at 1600 px (narrower, the table scrolls).
    await page.setViewportSize({ width: 1600, height: 600 });
    await screenshot(page, "dashboard-channels.png");
    await page.setViewportSize(DESKTOP);
    await page.getByLabel("Search by sender").fill(c.sender.slice(2, 14));
    await page.getByRole("button", { name: "Search" }).click();
    const row = page.locator(`tr[data-sender="${c.sender.toLowerCase()}"]`);
    await expect.poll(() => row.count(), PROJECTION).toBe(1);
    await expect
      .poll(() => row.locator("td").nth(4).locator(".amount").getAttribute("data-base"), PROJECTION)
      .toBe("5");
    expect(await row.locator("td").nth(1).textContent()).toBe(String(c.openBlock));
    expect(await row.locator("td").nth(8).textContent()).toMatch(/^[0-9]+ s ago$/);
    // The shortened address keeps the full one in its title.
    expect(await row.locator("code.address").getAttribute("title")).toBe(c.sender.toLowerCase());

    await row.click();
    await expect.poll(() => page.locator("#channel-detail code.address").textContent()).toBe(c.sender);
    expect(page.url()).toContain(`#channel/${c.sender.toLowerCase()}/${c.openBlock}`);
    // When its object last took a payment: seconds ago, not "never".
    await expect
      .poll(() => page.locator("#channel-detail dt:text-is('Last payment') + dd").textContent())
      .toMatch(/^[0-9]+ s ago$/);

    await page.goto(`${stack.url}/admin#traffic`);
    await expect.poll(() => paidLine.getAttribute("data-sum"), PROJECTION).toBe("5");
    // Five requests at a price of 5: 25 earned, as the Overview's exact total says.
    expect(await page.locator("#chart-earnings polyline").getAttribute("data-sum")).toBe("25");
    const invalid = page.locator('tr[data-code="invalid_amount"]');
    await expect.poll(() => invalid.locator("td").nth(3).textContent(), PROJECTION).toBe("1");
    expect(await invalid.locator("td").nth(1).textContent()).toBe("402 RDN-Invalid-Amount");
    const refusedLine = page.locator('#chart-refused polyline[data-name="invalid_amount"]');
    expect(await refusedLine.getAttribute("data-sum")).toBe("1");
    await screenshot(page, "dashboard-traffic.png");
  });

  it("a withdraw from the Actions view lands on chain", async () => {
    await expect.poll(async () => (await admin<Overview>("/overview")).earned, PROJECTION).toBe("25");
    // What proofs at or below the charged totals allow: 15 and 5 (the 50 prepaid is not all spent).
    const { withdrawableNow } = await admin<Overview>("/overview");
    expect(withdrawableNow).toBe("20");
    const before = await client.tokenBalance(stack.receiver);

    await page.goto(`${stack.url}/admin#actions`);
    await page.locator("#withdraw-minimum").fill("1");
    await page.locator("#withdraw").click();
    await expect
      .poll(() => page.locator("#withdraw + div").textContent())
      .toContain("Withdraw every channel's earnings of at least 0.000000000000000001 E402T (1 base units)?");
    await page.locator("#withdraw-confirm").click();
    const sent = page.locator('#withdraw-result tr[data-result="sent"]');
    await expect.poll(() => sent.count(), { timeout: 60_000 }).toBe(2);
    // Done: the question is gone and the action can be asked again.
    expect(await page.locator("#withdraw-confirm").isVisible()).toBe(false);
    expect(await page.locator("#withdraw").isVisible()).toBe(true);
    const hashes = (await sent.evaluateAll((rows) => rows.map((r) => r.getAttribute("data-tx")))) as Hex[];
    for (const hash of hashes) {
      const receipt = await client.pub.waitForTransactionReceipt({ hash });
      expect(receipt.status).toBe("success");
    }
    expect(await client.tokenBalance(stack.receiver)).toBe(before + BigInt(withdrawableNow));
    // The receiver's transactions below show them confirmed.
    await expect
      .poll(() => page.locator('tr[data-status="confirmed"][data-tx]').count(), PROJECTION)
      .toBeGreaterThanOrEqual(hashes.length);
    await screenshot(page, "dashboard-actions.png");
  });

  it("Chain shows the sync's cursor and the receiver's balances as the chain has them", async () => {
    await page.goto(`${stack.url}/admin#chain`);
    const tokens = await client.tokenBalance(stack.receiver);
    await expect
      .poll(() => page.locator("#chain-tokens .amount").getAttribute("data-base"), PROJECTION)
      .toBe(tokens.toString());
    expect(await page.locator("#chain-receiver code.address").textContent()).toBe(stack.receiver);
    const gas = await client.pub.getBalance({ address: stack.receiver });
    expect(await page.locator("#chain-gas .amount").getAttribute("data-base")).toBe(gas.toString());
    const sync = await admin<{ sync: { syncedBlock: number } }>("/sync");
    expect(Number(await page.locator("#chain-cursor").textContent())).toBeGreaterThanOrEqual(sync.sync.syncedBlock - 5);
    expect(await page.locator("#chain-alerts").textContent()).toBe("No alerts.");
    await screenshot(page, "dashboard-chain.png");
  });

  it("reads on a phone: no page-wide horizontal scroll", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${stack.url}/admin#overview`);
    await page.locator("#overview-earned .amount").waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, "dashboard-phone.png");
    await page.setViewportSize(DESKTOP);
  });

  it("logout clears the login: the form again, and the admin API refuses the browser", async () => {
    await page.goto(`${stack.url}/admin#overview`);
    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByLabel("Admin token").waitFor();
    expect(await adminCookies()).toEqual([]);
    const status = await page.evaluate(async () => (await fetch("/api/1/admin/overview")).status);
    expect(status).toBe(401);
  });
});

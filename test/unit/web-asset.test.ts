// Guards the page script the Worker serves: src/worker/http/paywall-asset.ts must be what
// scripts/build-web.ts builds from src/web now (else: run npm run build:web), and the 402 page
// with its script must stay within the budget of 60 KB gzip.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { WEB_ASSET_MODULE, buildWebAsset, renderWebAssetModule } from "../../scripts/build-web.js";
import { PAYWALL_SCRIPT } from "../../src/worker/http/paywall-asset.js";
import { paywallPage } from "../../src/worker/http/paywall-page.js";

const ROOT = join(import.meta.dirname, "../..");
const BUDGET_GZIP_BYTES = 60 * 1024;

describe("the page script asset", () => {
  it("matches a fresh build of src/web", async () => {
    const fresh = renderWebAssetModule(await buildWebAsset());
    const committed = readFileSync(join(ROOT, WEB_ASSET_MODULE), "utf8");
    if (committed !== fresh) throw new Error(`${WEB_ASSET_MODULE} is stale: run npm run build:web`);
  });

  it("is named by its content and, with the 402 page, fits in 60 KB gzip", () => {
    expect(PAYWALL_SCRIPT.name).toMatch(/^paywall\.[0-9a-f]{12}\.js$/);
    const html = paywallPage({
      code: "payment_required",
      message: "This request requires a payment.",
      url: "https://paywall.example/article/x",
      terms: { "RDN-Price": "5" },
      settings: {
        chainId: 1,
        contract: "0x0000000000000000000000000000000000000001",
        token: "0x0000000000000000000000000000000000000002",
        receiver: "0x0000000000000000000000000000000000000003",
        gatewayPath: "/api/1",
        minConfirmations: 1,
        prepayRequests: 20,
        depositRequests: 100,
      },
    });
    expect(html).toContain(PAYWALL_SCRIPT.name);
    const gzip = gzipSync(html).length + gzipSync(PAYWALL_SCRIPT.body).length;
    expect(gzip).toBeLessThanOrEqual(BUDGET_GZIP_BYTES);
  });
});

// Guards the browser scripts the Worker serves: each generated module under src/worker/http/
// (paywall-asset.ts, dashboard-asset.ts) must be what scripts/build-web.ts builds from src/web
// now (else: run npm run build:web), and the 402 page with its script must stay within the
// budget of 60 KB gzip.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { WEB_ASSETS, buildWebAsset, renderWebAssetModule } from "../../scripts/build-web.js";
import { DASHBOARD_SCRIPT } from "../../src/worker/http/dashboard-asset.js";
import { dashboardPage } from "../../src/worker/http/dashboard-page.js";
import { PAYWALL_SCRIPT } from "../../src/worker/http/paywall-asset.js";
import { paywallPage } from "../../src/worker/http/paywall-page.js";

const ROOT = join(import.meta.dirname, "../..");
const BUDGET_GZIP_BYTES = 60 * 1024;

describe("the browser script assets", () => {
  for (const spec of WEB_ASSETS) {
    it(`${spec.module} matches a fresh build of ${spec.entry}`, async () => {
      const fresh = renderWebAssetModule(spec, await buildWebAsset(spec));
      const committed = readFileSync(join(ROOT, spec.module), "utf8");
      if (committed !== fresh) throw new Error(`${spec.module} is stale: run npm run build:web`);
    });
  }

  it("the page script is named by its content and, with the 402 page, fits in 60 KB gzip", () => {
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

  it("the dashboard's script is named by its content and its page loads it from /admin/assets", () => {
    expect(DASHBOARD_SCRIPT.name).toMatch(/^dashboard\.[0-9a-f]{12}\.js$/);
    expect(dashboardPage()).toContain(`<script src="/admin/assets/${DASHBOARD_SCRIPT.name}" defer></script>`);
  });
});

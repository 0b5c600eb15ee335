// The whole test suite: one vitest run, several projects. `unit` and `contracts` run in Node
// (contracts against a real anvil started by the test itself), `worker` runs inside workerd
// through @cloudflare/vitest-plugin, `e2e` drives the `npm start` stack over HTTP.
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { TEST_TOKEN_DOMAIN } from "./contracts/deploy.js";
import { ANVIL_KEYS } from "./scripts/anvil.js";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["src/**/*.test.ts", "test/unit/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        test: {
          name: "contracts",
          include: ["test/contracts/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        plugins: [
          cloudflareTest(async ({ inject }) => {
            const chain = inject("chain");
            const facilitator = inject("facilitator");
            return {
              main: "./src/worker/index.ts",
              wrangler: { configPath: "./wrangler.jsonc" },
              miniflare: {
                // Vitest's runner inside workerd needs Node's built-ins (node:inspector); the Worker
                // does not: wrangler.jsonc leaves nodejs_compat off, as do the e2e runs of wrangler dev.
                compatibilityFlags: ["nodejs_compat"],
                bindings: {
                  CHAIN_ID: String(chain.chainId),
                  RPC_URL: chain.rpcUrl,
                  CONTRACT_ADDRESS: chain.contract,
                  TOKEN_ADDRESS: chain.token,
                  DEPLOY_BLOCK: String(chain.deployBlock),
                  RECEIVER_PRIVATE_KEY: ANVIL_KEYS[1]!,
                  ADMIN_TOKEN: "test-admin-token-0123456789",
                  SESSION_SECRET: "test-session-secret-0123456789",
                  MIN_CONFIRMATIONS: "1",
                  DEMO_ROUTES: "true",
                  // Small flow-control allowances, so test/worker/flow*.test.ts can exhaust them.
                  FREE_CAPACITY: "5",
                  PAID_CAPACITY: "20",
                  // The strangers' look-up budget, wide enough for every file's first payments;
                  // test/worker/lookups.test.ts narrows it on an object of its own.
                  LOOKUP_RATE: "50",
                  // x402 `exact` through the global setup's local facilitator (TestToken's domain).
                  X402_FACILITATOR_URL: facilitator.url,
                  X402_TOKEN_NAME: TEST_TOKEN_DOMAIN.name,
                  X402_TOKEN_VERSION: TEST_TOKEN_DOMAIN.version,
                  TEST_MIGRATIONS: await readD1Migrations("./migrations"),
                  TEST_CHAIN: chain,
                  TEST_REORG_CHAIN: inject("reorgChain"),
                  TEST_ORIGINS: inject("origins"),
                  TEST_KEYS: [...ANVIL_KEYS],
                  TEST_FACILITATOR: facilitator,
                },
              },
            };
          }),
        ],
        test: {
          name: "worker",
          include: ["test/worker/**/*.test.ts"],
          globalSetup: ["test/helpers/chain-global-setup.ts"],
          setupFiles: ["test/worker/setup.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          // Builds dist/ (the CLI the tests run) and packs the package once per run.
          globalSetup: ["test/helpers/package-global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Each file starts its own stack (anvil + wrangler dev); one at a time keeps them light.
          fileParallelism: false,
        },
      },
    ],
  },
});

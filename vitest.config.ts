// The whole test suite: one vitest run, several projects. `unit` and `contracts` run in Node
// (contracts against a real anvil started by the test itself), `worker` runs inside workerd
// through @cloudflare/vitest-plugin (and `shards` too: the same Worker with its D1 projection
// spread over three databases and queues), `e2e` drives the `npm start` stack over HTTP.
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { TEST_TOKEN_DOMAIN } from "./contracts/deploy.js";
import { ANVIL_KEYS } from "./scripts/anvil.js";

/** The `shards` project's projection shards: DB and PROJECTION, then DB_SHARD_<i> and PROJECTION_<i>. */
const SHARDS = 3;
const extraShards = Array.from({ length: SHARDS - 1 }, (_, i) => i + 1);

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
        plugins: [
          cloudflareTest(async () => ({
            main: "./src/worker/index.ts",
            wrangler: { configPath: "./wrangler.jsonc" },
            miniflare: {
              compatibilityFlags: ["nodejs_compat"],
              // No chain here: nothing these tests do reads it (RPC_URL goes nowhere, so a stray
              // chain read fails loudly), and CHALLENGE_PERIOD spares /stats its one chain call.
              bindings: {
                CHAIN_ID: "31337",
                RPC_URL: "http://127.0.0.1:9",
                CONTRACT_ADDRESS: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
                TOKEN_ADDRESS: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
                CHALLENGE_PERIOD: "500",
                RECEIVER_PRIVATE_KEY: ANVIL_KEYS[1]!,
                ADMIN_TOKEN: "test-admin-token-0123456789",
                SESSION_SECRET: "test-session-secret-0123456789",
                PROJECTION_SHARDS: String(SHARDS),
                TEST_MIGRATIONS: await readD1Migrations("./migrations"),
              },
              d1Databases: Object.fromEntries(extraShards.map((i) => [`DB_SHARD_${i}`, `edge402-shard-${i}`])),
              queueProducers: Object.fromEntries(
                extraShards.map((i) => [`PROJECTION_${i}`, { queueName: `edge402-projection-${i}` }]),
              ),
              queueConsumers: Object.fromEntries(
                extraShards.map((i) => [`edge402-projection-${i}`, { maxBatchSize: 100, maxBatchTimeout: 1 }]),
              ),
            },
          })),
        ],
        test: {
          name: "shards",
          include: ["test/shards/**/*.test.ts"],
          setupFiles: ["test/shards/setup.ts"],
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

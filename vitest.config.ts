// The whole test suite: one vitest run, several projects. `unit` and `contracts` run in Node
// (contracts against a real anvil started by the test itself), `worker` runs inside workerd
// through @cloudflare/vitest-pool-workers, `e2e` drives the `npm start` stack over HTTP.
import { defineConfig } from "vitest/config";

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
    ],
  },
});

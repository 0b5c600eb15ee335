// The bindings the worker tests see through `cloudflare:test`: the Worker's own Env plus the
// test-only values the vitest config passes in (chain addresses, keys, migrations).
import type { Env as WorkerEnv } from "../../src/worker/config.js";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    }
  }
}

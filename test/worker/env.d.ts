// The bindings the worker tests see through `cloudflare:test` / `cloudflare:workers`: the
// Worker's own (generated from wrangler.jsonc into worker-configuration.d.ts) plus the
// test-only values the vitest config passes in (chain addresses, keys, migrations).
declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    }
  }
}

export {};

// Loads secp256k1.wasm in workerd (Cloudflare Workers, wrangler dev, vitest-pool-workers),
// selected by the `workerd` condition of the package's `#secp256k1-wasm` import. Workers may
// not compile WebAssembly from bytes at run time, so the module is imported as a compiled
// `WebAssembly.Module`: the bundler (wrangler's esbuild rules, the pool's module loader)
// compiles it when the Worker starts, and the first verification only instantiates it.
import secp256k1Module from "./secp256k1.wasm";

/** The compiled verifier module. */
export function loadSecp256k1Module(): Promise<WebAssembly.Module> {
  return Promise.resolve(secp256k1Module);
}

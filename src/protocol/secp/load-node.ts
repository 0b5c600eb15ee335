// Loads secp256k1.wasm in Node (tsx, vitest, the client and scripts), the default branch of
// the package's `#secp256k1-wasm` import: it reads the file beside this module and compiles
// it, once, on first use (nothing happens at import; a failure is retried on the next call).
import { readFile } from "node:fs/promises";

let loading: Promise<WebAssembly.Module> | undefined;

/** The compiled verifier module (read and compiled on the first call, then cached). */
export function loadSecp256k1Module(): Promise<WebAssembly.Module> {
  loading ??= readFile(new URL("./secp256k1.wasm", import.meta.url))
    .then((bytes) => WebAssembly.compile(bytes))
    .catch((err: unknown) => {
      loading = undefined;
      throw err;
    });
  return loading;
}

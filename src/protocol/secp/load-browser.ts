// Loads secp256k1.wasm in a browser (the `browser` condition of the package's
// `#secp256k1-wasm` import): bundlers that understand `new URL(..., import.meta.url)` (Vite,
// webpack 5, Parcel) emit the file as an asset; it is fetched and compiled once, on first use
// (a failure is retried on the next call).
let loading: Promise<WebAssembly.Module> | undefined;

/** The compiled verifier module (fetched and compiled on the first call, then cached). */
export function loadSecp256k1Module(): Promise<WebAssembly.Module> {
  loading ??= (async () => {
    const res = await fetch(new URL("./secp256k1.wasm", import.meta.url));
    if (!res.ok) throw new Error(`edge402: cannot load secp256k1.wasm (HTTP ${res.status})`);
    return WebAssembly.compile(await res.arrayBuffer());
  })().catch((err: unknown) => {
    loading = undefined;
    throw err;
  });
  return loading;
}

// The type of a `.wasm` import where the bundler compiles it ahead of time (wrangler and
// @cloudflare/vitest-pool-workers give a compiled `WebAssembly.Module`): only
// load-workerd.ts imports one.
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}

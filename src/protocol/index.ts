// `edge402/protocol`: everything the Worker and the client share, so the two sides cannot drift.
// Only viem, standard JavaScript and one WebAssembly module (secp/, loaded per runtime through
// the `#secp256k1-wasm` import on the first verification), so it runs in workerd, Node and
// browsers alike.
export * from "./amount.js";
export * from "./channel-key.js";
export * from "./codec.js";
export * from "./eip712.js";
export * from "./errors.js";
export * from "./headers.js";
export * from "./sign.js";
export * from "./signature.js";
export * from "./stream.js";
export * from "./verify.js";
export * from "./abi.js";
export * from "./x402.js";

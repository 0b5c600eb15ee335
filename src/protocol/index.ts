// The protocol package: everything the Worker and the client share. It is viem, standard
// JavaScript and one WebAssembly module, with no Workers or Node APIs outside the per-runtime
// loaders in secp/. Error codes, header names, the strict header codec, amount helpers, the
// signature rules, the EIP-712 domain and types, channel identity, signing, verification and the
// contract ABIs. Verification recovers signers in secp/secp256k1.wasm (libsecp256k1 built by
// secp/build-wasm.ts, called from fast-verify.ts), which the package.json `imports` entry
// `#secp256k1-wasm` resolves per runtime: workerd imports it as a module the bundler compiles,
// browsers fetch it, Node (the default) reads it with node:fs. It is instantiated on the first
// verification, not at import.
export * from "./amount.js";
export * from "./channel-key.js";
export * from "./codec.js";
export * from "./eip712.js";
export * from "./errors.js";
export * from "./headers.js";
export * from "./sign.js";
export * from "./signature.js";
export * from "./verify.js";
export * from "./abi.js";

// The protocol package: everything the Worker and the client share, pure and runtime-free
// (viem and standard JavaScript only). Error codes, header names, the strict header codec,
// the EIP-712 domain and types, channel identity, signing and verification.
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

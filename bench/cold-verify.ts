// Run as its own Node process by bench/verify.ts: the cost of the first verification in a fresh
// process, which is what a cold Worker isolate pays. `tsx bench/cold-verify.ts fast|viem`
// prints one JSON line: the import of the verifier (ms), the first verification (ms, including
// loading, compiling and instantiating the WebAssembly module for `fast`), and the second (µs).
import type { Hex } from "viem";

const mode = process.argv[2] === "viem" ? "viem" : "fast";
// A fixed proof (anvil account 0 pays account 1 on the first local deployment), signed in advance.
const proof = {
  chainId: 31337,
  contract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  receiver: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  openBlock: 7,
  balance: 15n,
  sender: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
  signature:
    "0xc3e578074e1cd43f2213307ff8a0f1a32eb71798d4eb2bd094a085bae97be0a301305869f7180ea164c307b93204656f2bd4bff5b7556e292b76d9a0380611461b" as Hex,
} as const;

let t = performance.now();
let verify: () => Promise<boolean>;
if (mode === "fast") {
  const { verifyBalanceProof } = await import("../src/protocol/verify.js");
  verify = () => verifyBalanceProof(proof);
} else {
  const { recoverTypedDataAddress } = await import("viem");
  const { balanceProofTypedData } = await import("../src/protocol/eip712.js");
  verify = async () =>
    (await recoverTypedDataAddress({ ...balanceProofTypedData(proof), signature: proof.signature })).toLowerCase() ===
    proof.sender.toLowerCase();
}
const importMs = performance.now() - t;
t = performance.now();
const first = await verify();
const firstMs = performance.now() - t;
t = performance.now();
const second = await verify();
const secondUs = (performance.now() - t) * 1000;
if (!first || !second) throw new Error("the fixed proof did not verify");
console.log(JSON.stringify({ mode, importMs, firstMs, secondUs }));

import { numberToHex, recoverTypedDataAddress, type Address, type Hex } from "viem";
import { describe, expect, it } from "vitest";
import { balanceProofTypedData } from "./eip712.js";
import { isProtocolError } from "./errors.js";
import { SECP256K1_N } from "./signature.js";
import {
  recoverBalanceProofSigner,
  recoverCloseRequestSigner,
  recoverClosingProofSigner,
  verifyBalanceProof,
  verifyCloseRequest,
  verifyClosingProof,
} from "./verify.js";

// The fixed vector: anvil account 0 pays anvil account 1 on a local deployment.
const sender: Address = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const receiver: Address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const contract: Address = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const proof = { chainId: 31337, contract, receiver, openBlock: 7, balance: 15n } as const;
const SIG: Hex =
  "0xc3e578074e1cd43f2213307ff8a0f1a32eb71798d4eb2bd094a085bae97be0a301305869f7180ea164c307b93204656f2bd4bff5b7556e292b76d9a0380611461b";
const CLOSING_SIG: Hex =
  "0xacf687de7b430636710dec2ebe4e246b3bd60d8964e8cacbd45107173fd586683b6bc0e08bfff8d6982967f2175a60edc201ebcfac13344dbcf991caf9f5c8bd1c";
const CLOSE_REQUEST_SIG: Hex =
  "0xee12b751c6fa7259ddc445b6ae6bb853d61b131afa2ad8f611ee1bb31f1df62b70b793b7decc9c92c8764ffae615a1aeca778c0624312afe6585c03321dc26cc1b";

const r = SIG.slice(2, 66);
const s = BigInt(`0x${SIG.slice(66, 130)}`);
const HIGH_S_TWIN = `0x${r}${numberToHex(SECP256K1_N - s, { size: 32 }).slice(2)}1c` as Hex;

async function rejection(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    if (isProtocolError(e)) return e.code;
    throw e;
  }
  throw new Error("expected a rejection");
}

describe("recoverBalanceProofSigner", () => {
  it("recovers the fixed vector's sender", async () => {
    expect(await recoverBalanceProofSigner({ ...proof, signature: SIG })).toBe(sender);
    expect(await verifyBalanceProof({ ...proof, signature: SIG, sender })).toBe(true);
  });

  it("compares the sender case-insensitively", async () => {
    expect(await verifyBalanceProof({ ...proof, signature: SIG, sender: sender.toLowerCase() as Address })).toBe(true);
    expect(
      await verifyBalanceProof({
        ...proof,
        signature: SIG,
        sender: sender.toUpperCase().replace("0X", "0x") as Address,
      }),
    ).toBe(true);
  });

  it.each([
    ["another contract", { contract: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512" as Address }],
    ["another chain id", { chainId: 1 }],
    ["another receiver", { receiver: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" as Address }],
    ["another balance", { balance: 16n }],
    ["another open block", { openBlock: 8 }],
  ])("does not recover the sender over %s", async (_name, change) => {
    const other = { ...proof, ...change, signature: SIG };
    expect((await recoverBalanceProofSigner(other)).toLowerCase()).not.toBe(sender.toLowerCase());
    expect(await verifyBalanceProof({ ...other, sender })).toBe(false);
  });

  it("accepts v = 0/1 as v = 27/28", async () => {
    const v0 = `${SIG.slice(0, 130)}00` as Hex;
    expect(await recoverBalanceProofSigner({ ...proof, signature: v0 })).toBe(sender);
    expect(await recoverBalanceProofSigner({ ...proof, signature: v0.toUpperCase().replace("0X", "0x") as Hex })).toBe(
      sender,
    );
    // the other parity recovers someone else, in both notations alike
    const v1 = `${SIG.slice(0, 130)}01` as Hex;
    const v28 = `${SIG.slice(0, 130)}1c` as Hex;
    const other = await recoverBalanceProofSigner({ ...proof, signature: v1 });
    expect(other).not.toBe(sender);
    expect(await recoverBalanceProofSigner({ ...proof, signature: v28 })).toBe(other);
  });

  it("refuses the high-s twin, which plain ECDSA recovery would accept", async () => {
    expect(HIGH_S_TWIN).toBe(
      "0xc3e578074e1cd43f2213307ff8a0f1a32eb71798d4eb2bd094a085bae97be0a3fecfa79608e7f15e9b3cf846cdfb9a8f8eda1cf0f7f33212945b84ec98302ffb1c",
    );
    expect(await recoverTypedDataAddress({ ...balanceProofTypedData(proof), signature: HIGH_S_TWIN })).toBe(sender);
    expect(await rejection(recoverBalanceProofSigner({ ...proof, signature: HIGH_S_TWIN }))).toBe(
      "invalid_balance_proof",
    );
    expect(await verifyBalanceProof({ ...proof, signature: HIGH_S_TWIN, sender })).toBe(false);
  });

  it.each([
    ["v = 29", `${SIG.slice(0, 130)}1d`],
    ["r = 0", `0x${"0".repeat(64)}${SIG.slice(66)}`],
    ["s = 0", `0x${r}${"0".repeat(64)}1b`],
    ["s = n", `0x${r}${numberToHex(SECP256K1_N, { size: 32 }).slice(2)}1b`],
    ["a short signature", SIG.slice(0, -2)],
    ["a non-hex signature", `${SIG.slice(0, -2)}zz`],
    ["an r that is no curve point", `0x${numberToHex(5n, { size: 32 }).slice(2)}${SIG.slice(66)}`],
  ])("refuses %s with invalid_balance_proof", async (_name, signature) => {
    expect(await rejection(recoverBalanceProofSigner({ ...proof, signature: signature as Hex }))).toBe(
      "invalid_balance_proof",
    );
    expect(await verifyBalanceProof({ ...proof, signature: signature as Hex, sender })).toBe(false);
  });

  it("refuses an unhashable message with invalid_balance_proof", async () => {
    expect(await rejection(recoverBalanceProofSigner({ ...proof, balance: 2n ** 192n, signature: SIG }))).toBe(
      "invalid_balance_proof",
    );
  });
});

describe("closing proofs and close requests", () => {
  const closing = { chainId: 31337, contract, sender, openBlock: 7, balance: 10n } as const;
  const request = { chainId: 31337, contract, receiver, openBlock: 7, deadline: 1_700_000_000n } as const;

  it("recover their signers", async () => {
    expect(await recoverClosingProofSigner({ ...closing, signature: CLOSING_SIG })).toBe(receiver);
    expect(await verifyClosingProof({ ...closing, signature: CLOSING_SIG, receiver })).toBe(true);
    expect(await recoverCloseRequestSigner({ ...request, signature: CLOSE_REQUEST_SIG })).toBe(sender);
    expect(await verifyCloseRequest({ ...request, signature: CLOSE_REQUEST_SIG, sender })).toBe(true);
  });

  it("are bound to their type, balance and deadline", async () => {
    expect(await verifyClosingProof({ ...closing, balance: 11n, signature: CLOSING_SIG, receiver })).toBe(false);
    expect(
      await verifyCloseRequest({ ...request, deadline: 1_700_000_001n, signature: CLOSE_REQUEST_SIG, sender }),
    ).toBe(false);
    // a balance proof signature is not a close request, even over the same fields
    expect(await verifyCloseRequest({ ...request, deadline: 15n, signature: SIG, sender })).toBe(false);
    expect(await verifyBalanceProof({ ...proof, balance: 10n, signature: CLOSING_SIG, sender: receiver })).toBe(false);
  });
});

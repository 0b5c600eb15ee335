import { concat, encodeAbiParameters, hashTypedData, keccak256, toHex, type Address } from "viem";
import { describe, expect, it } from "vitest";
import {
  BALANCE_PROOF_TYPE,
  balanceProofTypedData,
  balanceProofTypes,
  channelDomain,
  CLOSE_REQUEST_TYPE,
  closeRequestTypedData,
  closeRequestTypes,
  CLOSING_PROOF_TYPE,
  closingProofTypedData,
  closingProofTypes,
  EIP712_NAME,
  EIP712_VERSION,
} from "./eip712.js";

const chainId = 31337;
const contract: Address = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const sender: Address = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const receiver: Address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

// Pinned once from viem and checked by hand below; a change here breaks every signature.
const BALANCE_PROOF_TYPEHASH = "0x2eea74cdde733f01eb9a39ca0d54c02d874bd362d13791535b7fb47951172cb1";
const CLOSING_PROOF_TYPEHASH = "0x672679af08b6fe0aa7d5dffc87c2255fcc6ce2d71a79983977339251be6ff016";
const CLOSE_REQUEST_TYPEHASH = "0x38a9bbd7838c257c995e7eb3a9cf067327f1d2930c268e9553f228c07eed9d0a";
const DOMAIN_SEPARATOR = "0xaa87087b705be969798b51ec1302d6fe4444ff59115fa910bf0b8b017beb7b25";
const BALANCE_PROOF_DIGEST = "0x928f5ce957cba4c8726133e6be6e4a7e723e1749e515274ac894ccc38a4269d8";
const CLOSING_PROOF_DIGEST = "0x78b97611bf0b7b57e58956021b1f4ac1d0b527b407bbcc35c9b326ad0b3b06bb";
const CLOSE_REQUEST_DIGEST = "0x36df35809d9197736db2a8616d36a35b587185426577a04d873fd3616ff145ad";

/** The EIP-712 digest computed by hand: keccak256(0x1901 ‖ domainSeparator ‖ hashStruct). */
function manualDigest(structHash: `0x${string}`) {
  return keccak256(concat(["0x1901", DOMAIN_SEPARATOR, structHash]));
}

describe("EIP-712 domain and types", () => {
  it("uses the MicroTransferChannels v1 domain", () => {
    expect(EIP712_NAME).toBe("MicroTransferChannels");
    expect(EIP712_VERSION).toBe("1");
    expect(channelDomain(chainId, contract)).toEqual({
      name: "MicroTransferChannels",
      version: "1",
      chainId: 31337,
      verifyingContract: contract,
    });
  });

  it("pins the domain separator", () => {
    const typeHash = keccak256(
      toHex("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
    );
    const separator = keccak256(
      encodeAbiParameters(
        [{ type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }, { type: "uint256" }, { type: "address" }],
        [typeHash, keccak256(toHex(EIP712_NAME)), keccak256(toHex(EIP712_VERSION)), 31337n, contract],
      ),
    );
    expect(separator).toBe(DOMAIN_SEPARATOR);
  });

  it("declares the three types exactly", () => {
    expect(balanceProofTypes).toEqual({
      BalanceProof: [
        { name: "receiver", type: "address" },
        { name: "openBlock", type: "uint32" },
        { name: "balance", type: "uint192" },
      ],
    });
    expect(closingProofTypes).toEqual({
      ClosingProof: [
        { name: "sender", type: "address" },
        { name: "openBlock", type: "uint32" },
        { name: "balance", type: "uint192" },
      ],
    });
    expect(closeRequestTypes).toEqual({
      CloseRequest: [
        { name: "receiver", type: "address" },
        { name: "openBlock", type: "uint32" },
        { name: "deadline", type: "uint64" },
      ],
    });
    const encodeType = (types: Record<string, readonly { name: string; type: string }[]>) =>
      Object.entries(types).map(([n, fields]) => `${n}(${fields.map((f) => `${f.type} ${f.name}`).join(",")})`)[0];
    expect(encodeType(balanceProofTypes)).toBe(BALANCE_PROOF_TYPE);
    expect(encodeType(closingProofTypes)).toBe(CLOSING_PROOF_TYPE);
    expect(encodeType(closeRequestTypes)).toBe(CLOSE_REQUEST_TYPE);
  });

  it("pins the type hashes", () => {
    expect(BALANCE_PROOF_TYPE).toBe("BalanceProof(address receiver,uint32 openBlock,uint192 balance)");
    expect(CLOSING_PROOF_TYPE).toBe("ClosingProof(address sender,uint32 openBlock,uint192 balance)");
    expect(CLOSE_REQUEST_TYPE).toBe("CloseRequest(address receiver,uint32 openBlock,uint64 deadline)");
    expect(keccak256(toHex(BALANCE_PROOF_TYPE))).toBe(BALANCE_PROOF_TYPEHASH);
    expect(keccak256(toHex(CLOSING_PROOF_TYPE))).toBe(CLOSING_PROOF_TYPEHASH);
    expect(keccak256(toHex(CLOSE_REQUEST_TYPE))).toBe(CLOSE_REQUEST_TYPEHASH);
  });
});

describe("typed-data builders", () => {
  it("builds the BalanceProof and its digest matches hashTypedData and a hand encoding", () => {
    const td = balanceProofTypedData({ chainId, contract, receiver, openBlock: 7, balance: 15n });
    expect(td).toEqual({
      domain: channelDomain(chainId, contract),
      types: balanceProofTypes,
      primaryType: "BalanceProof",
      message: { receiver, openBlock: 7, balance: 15n },
    });
    const structHash = keccak256(
      encodeAbiParameters(
        [{ type: "bytes32" }, { type: "address" }, { type: "uint32" }, { type: "uint192" }],
        [BALANCE_PROOF_TYPEHASH, receiver, 7, 15n],
      ),
    );
    expect(hashTypedData(td)).toBe(BALANCE_PROOF_DIGEST);
    expect(manualDigest(structHash)).toBe(BALANCE_PROOF_DIGEST);
  });

  it("builds the ClosingProof", () => {
    const td = closingProofTypedData({ chainId, contract, sender, openBlock: 7, balance: 10n });
    expect(td.primaryType).toBe("ClosingProof");
    expect(td.message).toEqual({ sender, openBlock: 7, balance: 10n });
    const structHash = keccak256(
      encodeAbiParameters(
        [{ type: "bytes32" }, { type: "address" }, { type: "uint32" }, { type: "uint192" }],
        [CLOSING_PROOF_TYPEHASH, sender, 7, 10n],
      ),
    );
    expect(hashTypedData(td)).toBe(CLOSING_PROOF_DIGEST);
    expect(manualDigest(structHash)).toBe(CLOSING_PROOF_DIGEST);
  });

  it("builds the CloseRequest", () => {
    const td = closeRequestTypedData({ chainId, contract, receiver, openBlock: 7, deadline: 1_700_000_000n });
    expect(td.primaryType).toBe("CloseRequest");
    expect(td.message).toEqual({ receiver, openBlock: 7, deadline: 1_700_000_000n });
    const structHash = keccak256(
      encodeAbiParameters(
        [{ type: "bytes32" }, { type: "address" }, { type: "uint32" }, { type: "uint64" }],
        [CLOSE_REQUEST_TYPEHASH, receiver, 7, 1_700_000_000n],
      ),
    );
    expect(hashTypedData(td)).toBe(CLOSE_REQUEST_DIGEST);
    expect(manualDigest(structHash)).toBe(CLOSE_REQUEST_DIGEST);
  });

  it("refuses values outside the Solidity widths when hashing", () => {
    expect(() =>
      hashTypedData(balanceProofTypedData({ chainId, contract, receiver, openBlock: 2 ** 32, balance: 1n })),
    ).toThrow();
    expect(() =>
      hashTypedData(balanceProofTypedData({ chainId, contract, receiver, openBlock: 7, balance: 2n ** 192n })),
    ).toThrow();
    expect(() =>
      hashTypedData(closeRequestTypedData({ chainId, contract, receiver, openBlock: 7, deadline: 2n ** 64n })),
    ).toThrow();
  });
});

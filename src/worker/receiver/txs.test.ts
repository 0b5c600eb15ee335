// Unit tests of the receiver's transaction rules (txs.ts): what an earlier transaction covers,
// how a stuck transaction's fees are raised, the calldata of each kind, nonce errors.
import { decodeFunctionData, getAddress, type Address, type Hex } from "viem";
import { describe, expect, it } from "vitest";
import { microTransferChannelsAbi } from "../../protocol/abi.js";
import { bumpFees, coveredBy, intentCalldata, isNonceError, type TxIntent, type TxRecord } from "./txs.js";

const sender = getAddress("0x00000000000000000000000000000000000000aa");
const receiver: Address = getAddress("0x00000000000000000000000000000000000000bb");
const sig = `0x${"11".repeat(65)}` as Hex;

const rec = (p: Partial<TxRecord>): TxRecord => ({
  id: 1,
  kind: "withdraw",
  sender,
  openBlock: 7,
  amount: 10n,
  nonce: 0,
  status: "pending",
  hashes: ["0x01"],
  minedHash: null,
  attempts: 1,
  gas: 100_000n,
  maxFeePerGas: 10n,
  maxPriorityFeePerGas: 1n,
  data: "0x",
  error: null,
  sentAt: 0,
  createdAt: 0,
  updatedAt: 0,
  ...p,
});
const withdraw = (balance: bigint): TxIntent => ({ kind: "withdraw", sender, openBlock: 7, balance, balanceSig: sig });

describe("coveredBy", () => {
  it("covers a withdraw by a pending one, or a confirmed one at least as large", () => {
    expect(coveredBy([rec({ status: "pending", amount: 5n })], withdraw(10n))).not.toBeNull();
    expect(coveredBy([rec({ status: "confirmed", amount: 10n })], withdraw(10n))).not.toBeNull();
    expect(coveredBy([rec({ status: "confirmed", amount: 5n })], withdraw(10n))).toBeNull();
    expect(coveredBy([rec({ status: "failed", amount: 10n })], withdraw(10n))).toBeNull();
  });

  it("lets anything that ends the channel cover every later intent, and only on that channel", () => {
    const dispute = rec({ kind: "dispute", status: "confirmed" });
    expect(coveredBy([dispute], withdraw(10n))).toBe(dispute);
    expect(coveredBy([dispute], { kind: "settle", sender, openBlock: 7, balance: 0n })).toBe(dispute);
    expect(coveredBy([dispute], { ...withdraw(10n), openBlock: 8 })).toBeNull();
    expect(
      coveredBy([rec({ status: "pending" })], { kind: "dispute", sender, openBlock: 7, balance: 10n, balanceSig: sig }),
    ).toBeNull();
  });
});

describe("bumpFees", () => {
  it("raises both fees by at least 25%, or to the market when that is higher", () => {
    expect(
      bumpFees({ maxFeePerGas: 100n, maxPriorityFeePerGas: 10n }, { maxFeePerGas: 1n, maxPriorityFeePerGas: 1n }),
    ).toEqual({
      maxFeePerGas: 126n,
      maxPriorityFeePerGas: 14n,
    });
    expect(
      bumpFees({ maxFeePerGas: 100n, maxPriorityFeePerGas: 10n }, { maxFeePerGas: 500n, maxPriorityFeePerGas: 50n }),
    ).toEqual({
      maxFeePerGas: 500n,
      maxPriorityFeePerGas: 50n,
    });
    const tiny = bumpFees(
      { maxFeePerGas: 1n, maxPriorityFeePerGas: 1n },
      { maxFeePerGas: 0n, maxPriorityFeePerGas: 0n },
    );
    expect(tiny.maxFeePerGas).toBeGreaterThan(1n);
    expect(tiny.maxFeePerGas).toBeGreaterThanOrEqual(tiny.maxPriorityFeePerGas);
  });
});

describe("intentCalldata", () => {
  it("encodes withdraw, cooperativeClose and settle", () => {
    expect(
      decodeFunctionData({ abi: microTransferChannelsAbi, data: intentCalldata(withdraw(10n), receiver) }),
    ).toMatchObject({
      functionName: "withdraw",
      args: [7, 10n, sig],
    });
    const dispute = intentCalldata(
      { kind: "dispute", sender, openBlock: 7, balance: 15n, balanceSig: sig },
      receiver,
      sig,
    );
    expect(decodeFunctionData({ abi: microTransferChannelsAbi, data: dispute })).toMatchObject({
      functionName: "cooperativeClose",
      args: [receiver, 7, 15n, sig, sig],
    });
    const settle = intentCalldata({ kind: "settle", sender, openBlock: 7, balance: 0n }, receiver);
    expect(decodeFunctionData({ abi: microTransferChannelsAbi, data: settle })).toMatchObject({
      functionName: "settle",
      args: [sender, receiver, 7],
    });
    expect(() =>
      intentCalldata({ kind: "close", sender, openBlock: 7, balance: 1n, balanceSig: sig }, receiver),
    ).toThrow();
  });

  it("knows the node's nonce complaints", () => {
    expect(isNonceError("nonce too low: next nonce 5, tx nonce 4")).toBe(true);
    expect(isNonceError("replacement transaction underpriced")).toBe(true);
    expect(isNonceError("insufficient funds for gas")).toBe(false);
  });
});

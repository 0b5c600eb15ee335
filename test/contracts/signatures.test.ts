// Contract tests for the EIP-712 signatures (PROTOCOL.md section 2): the contract recovers the
// same signer as viem for BalanceProof and ClosingProof, accepts a signature made by a node's
// `eth_signTypedData_v4` (anvil's unlocked accounts), accepts v as 27/28 or 0/1, and refuses
// high-s signatures and signatures over another domain.
import { describe, expect, it } from "vitest";
import {
  concat,
  hashTypedData,
  numberToHex,
  parseSignature,
  recoverTypedDataAddress,
  size,
  slice,
  toHex,
  type Hex,
} from "viem";
import { rpc } from "../../scripts/anvil.js";
import {
  RECEIVER,
  addr,
  channelInfo,
  domain,
  expectRevert,
  microTransferChannelsAbi,
  openChannel,
  proofTypes,
  send,
  signBalance,
  signClosing,
  tokenBalance,
  useChain,
  useSnapshots,
} from "./fixture.js";

const env = useChain();
useSnapshots(env);

const S = 6;
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

const extractBalanceSigner = (openBlock: number, balance: bigint, sig: Hex) =>
  env.publicClient.readContract({
    address: env.channels,
    abi: microTransferChannelsAbi,
    functionName: "extractBalanceProofSigner",
    args: [addr(env, RECEIVER), openBlock, balance, sig],
  });

function withdrawCall(openBlock: number, balance: bigint, sig: Hex) {
  return {
    address: env.channels,
    abi: microTransferChannelsAbi,
    functionName: "withdraw",
    args: [openBlock, balance, sig],
  } as const;
}

describe("EIP-712 proofs", () => {
  it("the contract recovers what viem recovers, for both proof types", async () => {
    const sig = await signBalance(env, S, addr(env, RECEIVER), 42, 1234n);
    const message = { receiver: addr(env, RECEIVER), openBlock: 42, balance: 1234n };
    expect(
      await recoverTypedDataAddress({
        domain: domain(env),
        types: proofTypes,
        primaryType: "BalanceProof",
        message,
        signature: sig,
      }),
    ).toBe(addr(env, S));
    expect(await extractBalanceSigner(42, 1234n, sig)).toBe(addr(env, S));

    const closing = await signClosing(env, RECEIVER, addr(env, S), 42, 1234n);
    expect(
      await env.publicClient.readContract({
        address: env.channels,
        abi: microTransferChannelsAbi,
        functionName: "extractClosingProofSigner",
        args: [addr(env, S), 42, 1234n, closing],
      }),
    ).toBe(addr(env, RECEIVER));
  });

  it("accepts a signature from eth_signTypedData_v4 (anvil's unlocked account) on chain", async () => {
    const { openBlock } = await openChannel(env, S, 1_000n);
    const typedData = {
      types: {
        EIP712Domain: [
          { name: "name", type: "string" },
          { name: "version", type: "string" },
          { name: "chainId", type: "uint256" },
          { name: "verifyingContract", type: "address" },
        ],
        BalanceProof: proofTypes.BalanceProof,
      },
      primaryType: "BalanceProof",
      domain: domain(env),
      message: { receiver: addr(env, RECEIVER), openBlock, balance: "600" },
    };
    const sig = await rpc<Hex>(env.rpcUrl, "eth_signTypedData_v4", [addr(env, S), JSON.stringify(typedData)]);
    expect(size(sig)).toBe(65);
    // Same bytes as a local viem account signs (RFC 6979 signatures are deterministic).
    expect(sig).toBe(await signBalance(env, S, addr(env, RECEIVER), openBlock, 600n));
    const before = await tokenBalance(env, addr(env, RECEIVER));
    await send(env, RECEIVER, withdrawCall(openBlock, 600n, sig));
    expect(await tokenBalance(env, addr(env, RECEIVER))).toBe(before + 600n);
    expect((await channelInfo(env, S, openBlock)).withdrawn).toBe(600n);
  });

  it("accepts v as 0/1 as well as 27/28", async () => {
    const { openBlock } = await openChannel(env, S, 1_000n);
    const sig = await signBalance(env, S, addr(env, RECEIVER), openBlock, 100n);
    const v = Number(BigInt(slice(sig, 64, 65)));
    expect([27, 28]).toContain(v);
    const yParitySig = concat([slice(sig, 0, 64), numberToHex(v - 27, { size: 1 })]);
    expect(await extractBalanceSigner(openBlock, 100n, yParitySig)).toBe(addr(env, S));
    await send(env, RECEIVER, withdrawCall(openBlock, 100n, yParitySig));
    expect((await channelInfo(env, S, openBlock)).withdrawn).toBe(100n);
  });

  it("refuses a high-s signature (InvalidBalanceSignature)", async () => {
    const { openBlock } = await openChannel(env, S, 1_000n);
    const sig = await signBalance(env, S, addr(env, RECEIVER), openBlock, 100n);
    const { r, s, yParity } = parseSignature(sig);
    const highS = SECP256K1_N - BigInt(s);
    const malleated = concat([r, toHex(highS, { size: 32 }), numberToHex(28 - yParity, { size: 1 })]);
    // It is a valid secp256k1 signature of the same digest, but malleable: refused.
    await expectRevert(() => extractBalanceSigner(openBlock, 100n, malleated), "InvalidBalanceSignature");
    await expectRevert(
      () => env.wallets[RECEIVER]!.writeContract(withdrawCall(openBlock, 100n, malleated)),
      "InvalidBalanceSignature",
    );
  });

  it("a signature over another chain id or contract does not recover the sender", async () => {
    const { openBlock } = await openChannel(env, S, 1_000n);
    const message = { receiver: addr(env, RECEIVER), openBlock, balance: 100n };
    for (const d of [
      { ...domain(env), chainId: 1 },
      { ...domain(env), verifyingContract: env.token },
      { ...domain(env), version: "2" },
    ]) {
      const sig = await env.accounts[S]!.signTypedData({
        domain: d,
        types: proofTypes,
        primaryType: "BalanceProof",
        message,
      });
      expect(await extractBalanceSigner(openBlock, 100n, sig)).not.toBe(addr(env, S));
      await expectRevert(
        () => env.wallets[RECEIVER]!.writeContract(withdrawCall(openBlock, 100n, sig)),
        "ChannelNotFound",
      );
    }
    // Sanity: the digest differs from the right one.
    expect(
      hashTypedData({
        domain: { ...domain(env), chainId: 1 },
        types: proofTypes,
        primaryType: "BalanceProof",
        message,
      }),
    ).not.toBe(hashTypedData({ domain: domain(env), types: proofTypes, primaryType: "BalanceProof", message }));
  });
});

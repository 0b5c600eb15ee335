// The channel manager records a deposit only when it received all of it: with a fee-on-transfer
// token (contracts/test/FeeOnTransferToken.sol, which burns a share of each transfer)
// createChannel, createChannelWithPermit and topUp revert with TransferAmountMismatch, so a
// channel's deposit can never exceed what the contract holds. Without the fee the same token
// works, and a fee switched on later stops top-ups.
import { parseSignature, type Address } from "viem";
import { describe, expect, it } from "vitest";
import { readArtifact } from "../../contracts/deploy.js";
import { permitTypes } from "../../src/protocol/eip712.js";
import {
  CHALLENGE_PERIOD,
  DEPLOYER,
  RECEIVER,
  addr,
  deployTest,
  expectRevert,
  microTransferChannelsAbi,
  readTestArtifact,
  send,
  useChain,
  useSnapshots,
} from "./fixture.js";

const env = useChain();
useSnapshots(env);

const S = 3;
const feeAbi = readTestArtifact("FeeOnTransferToken").abi;

/** A fee token (`feeBps`) minted to the sender, and a channel manager for it. */
async function feeSetup(feeBps: number): Promise<{ token: Address; channels: Address }> {
  const token = await deployTest(env, "FeeOnTransferToken", [feeBps]);
  const { abi, bytecode } = readArtifact("MicroTransferChannels");
  const hash = await env.wallets[DEPLOYER]!.deployContract({ abi, bytecode, args: [token, CHALLENGE_PERIOD] });
  const channels = (await env.publicClient.waitForTransactionReceipt({ hash })).contractAddress!;
  await send(env, S, { address: token, abi: feeAbi, functionName: "mint", args: [addr(env, S), 10_000n] });
  await send(env, S, { address: token, abi: feeAbi, functionName: "approve", args: [channels, 10_000n] });
  return { token, channels };
}

const balanceOf = (token: Address, who: Address) =>
  env.publicClient.readContract({
    address: token,
    abi: feeAbi,
    functionName: "balanceOf",
    args: [who],
  }) as Promise<bigint>;

describe("fee-on-transfer tokens", () => {
  it("createChannel reverts with TransferAmountMismatch when the contract receives less than the deposit", async () => {
    const { token, channels } = await feeSetup(100); // 1 %
    await expectRevert(
      () =>
        env.wallets[S]!.writeContract({
          address: channels,
          abi: microTransferChannelsAbi,
          functionName: "createChannel",
          args: [addr(env, RECEIVER), 1_000n],
        }),
      "TransferAmountMismatch",
    );
    expect(await balanceOf(token, channels)).toBe(0n);
    expect(await balanceOf(token, addr(env, S))).toBe(10_000n);
  });

  it("createChannelWithPermit reverts the same way", async () => {
    const { token, channels } = await feeSetup(100);
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600);
    const signature = await env.accounts[S]!.signTypedData({
      domain: { name: "Fee Token", version: "1", chainId: env.chainId, verifyingContract: token },
      types: permitTypes,
      primaryType: "Permit",
      message: { owner: addr(env, S), spender: channels, value: 1_000n, nonce: 0n, deadline },
    });
    const { r, s, v } = parseSignature(signature);
    await expectRevert(
      () =>
        env.wallets[S]!.writeContract({
          address: channels,
          abi: microTransferChannelsAbi,
          functionName: "createChannelWithPermit",
          args: [addr(env, RECEIVER), 1_000n, deadline, Number(v), r, s],
        }),
      "TransferAmountMismatch",
    );
    expect(await balanceOf(token, channels)).toBe(0n);
  });

  it("takes the token while it charges no fee, and refuses a top-up once it does", async () => {
    const { token, channels } = await feeSetup(0);
    const receipt = await send(env, S, {
      address: channels,
      abi: microTransferChannelsAbi,
      functionName: "createChannel",
      args: [addr(env, RECEIVER), 1_000n],
    });
    const openBlock = Number(receipt.blockNumber);
    expect(await balanceOf(token, channels)).toBe(1_000n);
    await send(env, S, { address: token, abi: feeAbi, functionName: "setFee", args: [50] });
    await expectRevert(
      () =>
        env.wallets[S]!.writeContract({
          address: channels,
          abi: microTransferChannelsAbi,
          functionName: "topUp",
          args: [addr(env, RECEIVER), openBlock, 500n],
        }),
      "TransferAmountMismatch",
    );
    const [, deposit] = await env.publicClient.readContract({
      address: channels,
      abi: microTransferChannelsAbi,
      functionName: "getChannelInfo",
      args: [addr(env, S), addr(env, RECEIVER), openBlock],
    });
    expect(deposit).toBe(1_000n);
    expect(await balanceOf(token, channels)).toBe(1_000n);
  });
});

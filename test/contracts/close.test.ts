// Contract tests for closing channels (PROTOCOL.md section 1): cooperativeClose with both
// proofs (payouts, ChannelSettled, deletion, signer and balance checks, after a withdraw),
// the sender's uncooperativeClose (settleBlock = block + challengePeriod, only once, only the
// sender, balance bounds), settle (refused until block.number > settleBlock, then open to
// anyone, paying at the closing balance) and the receiver's dispute by cooperativeClose during
// the challenge.
import { describe, expect, it } from "vitest";
import { parseEventLogs, type Hex } from "viem";
import { mine } from "../../scripts/anvil.js";
import {
  CHALLENGE_PERIOD,
  MINTED,
  OTHER,
  RECEIVER,
  addr,
  channelInfo,
  expectRevert,
  microTransferChannelsAbi,
  openChannel,
  send,
  signBalance,
  signClosing,
  tokenBalance,
  useChain,
  useSnapshots,
} from "./fixture.js";

const env = useChain();
useSnapshots(env);

const S = 5;

function coopCall(openBlock: number, balance: bigint, balanceSig: Hex, closingSig: Hex) {
  return {
    address: env.channels,
    abi: microTransferChannelsAbi,
    functionName: "cooperativeClose",
    args: [addr(env, RECEIVER), openBlock, balance, balanceSig, closingSig],
  } as const;
}

function uncoopCall(openBlock: number, balance: bigint) {
  return {
    address: env.channels,
    abi: microTransferChannelsAbi,
    functionName: "uncooperativeClose",
    args: [addr(env, RECEIVER), openBlock, balance],
  } as const;
}

function settleCall(openBlock: number) {
  return {
    address: env.channels,
    abi: microTransferChannelsAbi,
    functionName: "settle",
    args: [addr(env, S), addr(env, RECEIVER), openBlock],
  } as const;
}

async function proofs(openBlock: number, balance: bigint) {
  return {
    balanceSig: await signBalance(env, S, addr(env, RECEIVER), openBlock, balance),
    closingSig: await signClosing(env, RECEIVER, addr(env, S), openBlock, balance),
  };
}

async function expectDeleted(openBlock: number) {
  await expectRevert(() => channelInfo(env, S, openBlock), "ChannelNotFound");
}

describe("cooperativeClose", () => {
  it("pays both sides at once, emits ChannelSettled and deletes the channel (anyone may submit)", async () => {
    const { openBlock } = await openChannel(env, S, 1_000n);
    const receiverBefore = await tokenBalance(env, addr(env, RECEIVER));
    const { balanceSig, closingSig } = await proofs(openBlock, 400n);
    const receipt = await send(env, OTHER, coopCall(openBlock, 400n, balanceSig, closingSig));
    const [ev] = parseEventLogs({ abi: microTransferChannelsAbi, logs: receipt.logs, eventName: "ChannelSettled" });
    expect(ev?.args).toEqual({
      sender: addr(env, S),
      receiver: addr(env, RECEIVER),
      openBlock,
      balance: 400n,
      receiverTokens: 400n,
    });
    expect(await tokenBalance(env, addr(env, RECEIVER))).toBe(receiverBefore + 400n);
    expect(await tokenBalance(env, addr(env, S))).toBe(MINTED - 400n);
    expect(await tokenBalance(env, env.channels)).toBe(0n);
    await expectDeleted(openBlock);
    // A settled channel cannot be settled again.
    await expectRevert(
      () => env.wallets[OTHER]!.writeContract(coopCall(openBlock, 400n, balanceSig, closingSig)),
      "ChannelNotFound",
    );
  });

  it("settles at zero and at the full deposit", async () => {
    const a = await openChannel(env, S, 100n);
    const p0 = await proofs(a.openBlock, 0n);
    await send(env, S, coopCall(a.openBlock, 0n, p0.balanceSig, p0.closingSig));
    const b = await openChannel(env, S, 100n);
    const pFull = await proofs(b.openBlock, 100n);
    await send(env, RECEIVER, coopCall(b.openBlock, 100n, pFull.balanceSig, pFull.closingSig));
    expect(await tokenBalance(env, addr(env, S))).toBe(MINTED - 100n);
    await expectDeleted(a.openBlock);
    await expectDeleted(b.openBlock);
  });

  it("after a withdraw pays the receiver only the rest", async () => {
    const { openBlock } = await openChannel(env, S, 1_000n);
    const receiverBefore = await tokenBalance(env, addr(env, RECEIVER));
    const w = await signBalance(env, S, addr(env, RECEIVER), openBlock, 300n);
    await send(env, RECEIVER, {
      address: env.channels,
      abi: microTransferChannelsAbi,
      functionName: "withdraw",
      args: [openBlock, 300n, w],
    });
    const { balanceSig, closingSig } = await proofs(openBlock, 700n);
    const receipt = await send(env, S, coopCall(openBlock, 700n, balanceSig, closingSig));
    const [ev] = parseEventLogs({ abi: microTransferChannelsAbi, logs: receipt.logs, eventName: "ChannelSettled" });
    expect(ev?.args).toMatchObject({ balance: 700n, receiverTokens: 400n });
    expect(await tokenBalance(env, addr(env, RECEIVER))).toBe(receiverBefore + 700n);
    expect(await tokenBalance(env, addr(env, S))).toBe(MINTED - 700n);
    expect(await tokenBalance(env, env.channels)).toBe(0n);
    await expectDeleted(openBlock);
  });

  it("refuses a balance below what was withdrawn or above the deposit", async () => {
    const { openBlock } = await openChannel(env, S, 1_000n);
    const w = await signBalance(env, S, addr(env, RECEIVER), openBlock, 300n);
    await send(env, RECEIVER, {
      address: env.channels,
      abi: microTransferChannelsAbi,
      functionName: "withdraw",
      args: [openBlock, 300n, w],
    });
    const low = await proofs(openBlock, 200n);
    await expectRevert(
      () => env.wallets[S]!.writeContract(coopCall(openBlock, 200n, low.balanceSig, low.closingSig)),
      "InvalidBalance",
    );
    const high = await proofs(openBlock, 1_001n);
    await expectRevert(
      () => env.wallets[S]!.writeContract(coopCall(openBlock, 1_001n, high.balanceSig, high.closingSig)),
      "InvalidBalance",
    );
  });

  it("refuses a closing proof not signed by the receiver and a balance proof not signed by the sender", async () => {
    const { openBlock } = await openChannel(env, S, 1_000n);
    const { balanceSig, closingSig } = await proofs(openBlock, 400n);
    const closingByOther = await signClosing(env, OTHER, addr(env, S), openBlock, 400n);
    await expectRevert(
      () => env.wallets[S]!.writeContract(coopCall(openBlock, 400n, balanceSig, closingByOther)),
      "InvalidClosingSignature",
    );
    const closingBySender = await signClosing(env, S, addr(env, S), openBlock, 400n);
    await expectRevert(
      () => env.wallets[S]!.writeContract(coopCall(openBlock, 400n, balanceSig, closingBySender)),
      "InvalidClosingSignature",
    );
    // Closing proof for another balance.
    const closingOther = await signClosing(env, RECEIVER, addr(env, S), openBlock, 401n);
    await expectRevert(
      () => env.wallets[S]!.writeContract(coopCall(openBlock, 400n, balanceSig, closingOther)),
      "InvalidClosingSignature",
    );
    // Balance proof by someone else: the closing proof names the real sender, so it fails too;
    // with a matching closing proof for that stranger there is no channel.
    const balanceByOther = await signBalance(env, OTHER, addr(env, RECEIVER), openBlock, 400n);
    await expectRevert(
      () => env.wallets[S]!.writeContract(coopCall(openBlock, 400n, balanceByOther, closingSig)),
      "InvalidClosingSignature",
    );
    const closingForOther = await signClosing(env, RECEIVER, addr(env, OTHER), openBlock, 400n);
    await expectRevert(
      () => env.wallets[S]!.writeContract(coopCall(openBlock, 400n, balanceByOther, closingForOther)),
      "ChannelNotFound",
    );
    await expectRevert(
      () => env.wallets[S]!.writeContract(coopCall(openBlock, 400n, `0x${"11".repeat(65)}`, closingSig)),
      "InvalidBalanceSignature",
    );
    await expectRevert(
      () => env.wallets[S]!.writeContract(coopCall(openBlock, 400n, balanceSig, "0x")),
      "InvalidClosingSignature",
    );
    expect((await channelInfo(env, S, openBlock)).deposit).toBe(1_000n);
  });
});

describe("uncooperativeClose and settle", () => {
  it("starts the challenge with settleBlock = block + challengePeriod", async () => {
    const { openBlock } = await openChannel(env, S, 1_000n);
    const receipt = await send(env, S, uncoopCall(openBlock, 250n));
    const settleBlock = Number(receipt.blockNumber) + CHALLENGE_PERIOD;
    const [ev] = parseEventLogs({
      abi: microTransferChannelsAbi,
      logs: receipt.logs,
      eventName: "ChannelCloseRequested",
    });
    expect(ev?.args).toEqual({
      sender: addr(env, S),
      receiver: addr(env, RECEIVER),
      openBlock,
      balance: 250n,
      settleBlock,
    });
    expect(await channelInfo(env, S, openBlock)).toMatchObject({
      deposit: 1_000n,
      settleBlock,
      closingBalance: 250n,
      withdrawn: 0n,
    });
    // Nothing moved yet.
    expect(await tokenBalance(env, env.channels)).toBe(1_000n);
  });

  it("is for the sender only, once, within withdrawn..deposit", async () => {
    const { openBlock } = await openChannel(env, S, 1_000n);
    await expectRevert(() => env.wallets[RECEIVER]!.writeContract(uncoopCall(openBlock, 10n)), "ChannelNotFound");
    await expectRevert(() => env.wallets[OTHER]!.writeContract(uncoopCall(openBlock, 10n)), "ChannelNotFound");
    await expectRevert(() => env.wallets[S]!.writeContract(uncoopCall(openBlock, 1_001n)), "InvalidBalance");
    const w = await signBalance(env, S, addr(env, RECEIVER), openBlock, 300n);
    await send(env, RECEIVER, {
      address: env.channels,
      abi: microTransferChannelsAbi,
      functionName: "withdraw",
      args: [openBlock, 300n, w],
    });
    await expectRevert(() => env.wallets[S]!.writeContract(uncoopCall(openBlock, 299n)), "InvalidBalance");
    await send(env, S, uncoopCall(openBlock, 300n));
    await expectRevert(() => env.wallets[S]!.writeContract(uncoopCall(openBlock, 400n)), "ChannelClosing");
  });

  it("settle is refused without a close request and until block.number > settleBlock", async () => {
    const { openBlock } = await openChannel(env, S, 1_000n);
    await expectRevert(() => env.wallets[OTHER]!.writeContract(settleCall(openBlock)), "NotClosing");
    await expectRevert(() => env.wallets[OTHER]!.writeContract(settleCall(openBlock + 1)), "ChannelNotFound");
    const receipt = await send(env, S, uncoopCall(openBlock, 250n));
    const settleBlock = receipt.blockNumber + BigInt(CHALLENGE_PERIOD);
    await expectRevert(() => env.wallets[S]!.writeContract(settleCall(openBlock)), "ChallengePeriodActive");
    // Mine until the next transaction lands exactly in settleBlock: still refused.
    await mine(env.rpcUrl, settleBlock - 1n - (await env.publicClient.getBlockNumber({ cacheTime: 0 })));
    const atSettleBlock = env.wallets[S]!.writeContract({ ...settleCall(openBlock), gas: 200_000n });
    const hash = await atSettleBlock;
    const r = await env.publicClient.waitForTransactionReceipt({ hash });
    expect(r.blockNumber).toBe(settleBlock);
    expect(r.status).toBe("reverted");
    // The next block (settleBlock + 1) settles.
    const ok = await send(env, S, settleCall(openBlock));
    expect(ok.blockNumber).toBe(settleBlock + 1n);
  });

  it("after the challenge anyone settles at the closing balance", async () => {
    const { openBlock } = await openChannel(env, S, 1_000n);
    const receiverBefore = await tokenBalance(env, addr(env, RECEIVER));
    await send(env, S, uncoopCall(openBlock, 250n));
    await mine(env.rpcUrl, CHALLENGE_PERIOD);
    const receipt = await send(env, OTHER, settleCall(openBlock));
    const [ev] = parseEventLogs({ abi: microTransferChannelsAbi, logs: receipt.logs, eventName: "ChannelSettled" });
    expect(ev?.args).toEqual({
      sender: addr(env, S),
      receiver: addr(env, RECEIVER),
      openBlock,
      balance: 250n,
      receiverTokens: 250n,
    });
    expect(await tokenBalance(env, addr(env, RECEIVER))).toBe(receiverBefore + 250n);
    expect(await tokenBalance(env, addr(env, S))).toBe(MINTED - 250n);
    expect(await tokenBalance(env, env.channels)).toBe(0n);
    await expectDeleted(openBlock);
    await expectRevert(() => env.wallets[OTHER]!.writeContract(settleCall(openBlock)), "ChannelNotFound");
  });

  it("withdraw, then uncooperative close and settle, pays the receiver only the rest", async () => {
    const { openBlock } = await openChannel(env, S, 1_000n);
    const receiverBefore = await tokenBalance(env, addr(env, RECEIVER));
    const w = await signBalance(env, S, addr(env, RECEIVER), openBlock, 300n);
    await send(env, RECEIVER, {
      address: env.channels,
      abi: microTransferChannelsAbi,
      functionName: "withdraw",
      args: [openBlock, 300n, w],
    });
    await send(env, S, uncoopCall(openBlock, 450n));
    await mine(env.rpcUrl, CHALLENGE_PERIOD);
    const receipt = await send(env, RECEIVER, settleCall(openBlock));
    const [ev] = parseEventLogs({ abi: microTransferChannelsAbi, logs: receipt.logs, eventName: "ChannelSettled" });
    expect(ev?.args).toMatchObject({ balance: 450n, receiverTokens: 150n });
    expect(await tokenBalance(env, addr(env, RECEIVER))).toBe(receiverBefore + 450n);
    expect(await tokenBalance(env, addr(env, S))).toBe(MINTED - 450n);
  });

  it("the receiver disputes during the challenge with cooperativeClose at the proved balance", async () => {
    const { openBlock } = await openChannel(env, S, 1_000n);
    const receiverBefore = await tokenBalance(env, addr(env, RECEIVER));
    // The sender signed 800 but claims 100 on chain.
    const { balanceSig, closingSig } = await proofs(openBlock, 800n);
    await send(env, S, uncoopCall(openBlock, 100n));
    await mine(env.rpcUrl, 10);
    const receipt = await send(env, RECEIVER, coopCall(openBlock, 800n, balanceSig, closingSig));
    const [ev] = parseEventLogs({ abi: microTransferChannelsAbi, logs: receipt.logs, eventName: "ChannelSettled" });
    expect(ev?.args).toMatchObject({ balance: 800n, receiverTokens: 800n });
    expect(await tokenBalance(env, addr(env, RECEIVER))).toBe(receiverBefore + 800n);
    expect(await tokenBalance(env, addr(env, S))).toBe(MINTED - 800n);
    await expectDeleted(openBlock);
    await mine(env.rpcUrl, CHALLENGE_PERIOD);
    await expectRevert(() => env.wallets[S]!.writeContract(settleCall(openBlock)), "ChannelNotFound");
  });
});

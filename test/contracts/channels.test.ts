// Contract tests for opening and funding channels (PROTOCOL.md section 1): the constructor's
// checks, createChannel and createChannelWithPermit (events, token movement, the channel key as
// computed in TypeScript), the one-channel-per-block rule, topUp, and the views (getKey,
// getChannelInfo, domainSeparator, type hashes).
import { describe, expect, it } from "vitest";
import {
  encodePacked,
  domainSeparator,
  keccak256,
  maxUint256,
  parseEventLogs,
  parseSignature,
  toHex,
  type Address,
} from "viem";
import { readArtifact } from "../../contracts/deploy.js";
import { permitTypes } from "../../src/protocol/eip712.js";
import { mine } from "../../scripts/anvil.js";
import {
  CHALLENGE_PERIOD,
  DEPLOYER,
  MINTED,
  RECEIVER,
  OTHER,
  addr,
  channelInfo,
  domain,
  expectRevert,
  microTransferChannelsAbi,
  openChannel,
  send,
  testTokenAbi,
  tokenBalance,
  useChain,
  useSnapshots,
} from "./fixture.js";

const env = useChain();
useSnapshots(env);

const S = 3; // sender account index

async function signPermit(owner: number, value: bigint, deadline: bigint) {
  const nonce = await env.publicClient.readContract({
    address: env.token,
    abi: testTokenAbi,
    functionName: "nonces",
    args: [addr(env, owner)],
  });
  const signature = await env.accounts[owner]!.signTypedData({
    domain: { name: "Edge402 Test Token", version: "1", chainId: env.chainId, verifyingContract: env.token },
    types: permitTypes,
    primaryType: "Permit",
    message: { owner: addr(env, owner), spender: env.channels, value, nonce, deadline },
  });
  const { r, s, v, yParity } = parseSignature(signature);
  return { r, s, v: Number(v ?? BigInt(yParity + 27)) };
}

describe("constructor", () => {
  it("reverts with InvalidChallengePeriod below 500 blocks and ZeroAddress for a zero token", async () => {
    const { abi, bytecode } = readArtifact("MicroTransferChannels");
    await expectRevert(
      () => env.wallets[DEPLOYER]!.deployContract({ abi, bytecode, args: [env.token, 499] }),
      "InvalidChallengePeriod",
    );
    await expectRevert(
      () =>
        env.wallets[DEPLOYER]!.deployContract({
          abi,
          bytecode,
          args: ["0x0000000000000000000000000000000000000000", 500],
        }),
      "ZeroAddress",
    );
  });

  it("exposes token, challengePeriod, the EIP-712 domain and the type hashes", async () => {
    const read = (functionName: string) =>
      env.publicClient.readContract({
        address: env.channels,
        abi: microTransferChannelsAbi,
        functionName: functionName as "token",
      });
    expect(await read("token")).toBe(env.token);
    expect(await read("challengePeriod")).toBe(CHALLENGE_PERIOD);
    expect(await read("domainSeparator")).toBe(domainSeparator({ domain: domain(env) }));
    expect(await read("BALANCE_PROOF_TYPEHASH")).toBe(
      keccak256(toHex("BalanceProof(address receiver,uint32 openBlock,uint192 balance)")),
    );
    expect(await read("CLOSING_PROOF_TYPEHASH")).toBe(
      keccak256(toHex("ClosingProof(address sender,uint32 openBlock,uint192 balance)")),
    );
    const eip712 = await env.publicClient.readContract({
      address: env.channels,
      abi: microTransferChannelsAbi,
      functionName: "eip712Domain",
    });
    expect(eip712[1]).toBe("MicroTransferChannels");
    expect(eip712[2]).toBe("1");
    expect(eip712[3]).toBe(BigInt(env.chainId));
    expect(eip712[4]).toBe(env.channels);
  });

  it("TestToken is Edge402 Test Token (E402T), 18 decimals, with a public mint", async () => {
    const read = (functionName: "name" | "symbol" | "decimals") =>
      env.publicClient.readContract({ address: env.token, abi: testTokenAbi, functionName });
    expect(await read("name")).toBe("Edge402 Test Token");
    expect(await read("symbol")).toBe("E402T");
    expect(await read("decimals")).toBe(18);
    await send(env, OTHER, {
      address: env.token,
      abi: testTokenAbi,
      functionName: "mint",
      args: [addr(env, OTHER), 7n],
    });
    expect(await tokenBalance(env, addr(env, OTHER))).toBe(7n);
  });
});

describe("createChannel", () => {
  it("pulls the deposit, emits ChannelCreated and stores the channel under the packed key", async () => {
    const deposit = 1_000n;
    const { openBlock, receipt } = await openChannel(env, S, deposit);
    const [ev] = parseEventLogs({ abi: microTransferChannelsAbi, logs: receipt.logs, eventName: "ChannelCreated" });
    expect(ev?.args).toEqual({ sender: addr(env, S), receiver: addr(env, RECEIVER), openBlock, deposit });
    expect(await tokenBalance(env, addr(env, S))).toBe(MINTED - deposit);
    expect(await tokenBalance(env, env.channels)).toBe(deposit);

    const expectedKey = keccak256(
      encodePacked(["address", "address", "uint32"], [addr(env, S), addr(env, RECEIVER), openBlock]),
    );
    const key = await env.publicClient.readContract({
      address: env.channels,
      abi: microTransferChannelsAbi,
      functionName: "getKey",
      args: [addr(env, S), addr(env, RECEIVER), openBlock],
    });
    expect(key).toBe(expectedKey);
    expect(await channelInfo(env, S, openBlock)).toEqual({
      key: expectedKey,
      deposit,
      settleBlock: 0,
      closingBalance: 0n,
      withdrawn: 0n,
    });
  });

  it("refuses a zero deposit, a zero receiver and a missing allowance", async () => {
    const create = (receiver: Address, deposit: bigint) =>
      env.wallets[S]!.writeContract({
        address: env.channels,
        abi: microTransferChannelsAbi,
        functionName: "createChannel",
        args: [receiver, deposit],
      });
    await expectRevert(() => create(addr(env, RECEIVER), 0n), "ZeroDeposit");
    await expectRevert(() => create("0x0000000000000000000000000000000000000000", 5n), "ZeroAddress");
    await expectRevert(() => create(addr(env, RECEIVER), 5n), "ERC20InsufficientAllowance");
  });

  it("opens only one channel per sender, receiver and block (ChannelExists)", async () => {
    await send(env, S, { address: env.token, abi: testTokenAbi, functionName: "approve", args: [env.channels, 100n] });
    await env.publicClient.request({ method: "evm_setAutomine" as never, params: [false] as never });
    try {
      const call = {
        address: env.channels,
        abi: microTransferChannelsAbi,
        functionName: "createChannel",
        args: [addr(env, RECEIVER), 10n],
        gas: 300_000n,
      } as const;
      const nonce = await env.publicClient.getTransactionCount({ address: addr(env, S) });
      const first = await env.wallets[S]!.writeContract({ ...call, nonce });
      const second = await env.wallets[S]!.writeContract({ ...call, nonce: nonce + 1 });
      await mine(env.rpcUrl, 1);
      const r1 = await env.publicClient.waitForTransactionReceipt({ hash: first });
      const r2 = await env.publicClient.waitForTransactionReceipt({ hash: second });
      expect(r1.blockNumber).toBe(r2.blockNumber);
      expect(r1.status).toBe("success");
      expect(r2.status).toBe("reverted");
      // Replaying the second call against that block names the error.
      await expectRevert(
        () => env.publicClient.simulateContract({ ...call, account: addr(env, S), blockNumber: r2.blockNumber }),
        "ChannelExists",
      );
      expect((await channelInfo(env, S, Number(r1.blockNumber))).deposit).toBe(10n);
      expect(await tokenBalance(env, env.channels)).toBe(10n);
    } finally {
      await env.publicClient.request({ method: "evm_setAutomine" as never, params: [true] as never });
    }
  });

  it("lets the same pair open another channel in a later block", async () => {
    const a = await openChannel(env, S, 10n);
    const b = await openChannel(env, S, 20n);
    expect(b.openBlock).toBeGreaterThan(a.openBlock);
    expect((await channelInfo(env, S, a.openBlock)).deposit).toBe(10n);
    expect((await channelInfo(env, S, b.openBlock)).deposit).toBe(20n);
  });
});

describe("createChannelWithPermit", () => {
  it("opens a channel in one transaction with an EIP-2612 permit", async () => {
    const deposit = 500n;
    const { v, r, s } = await signPermit(S, deposit, maxUint256);
    const nonceBefore = await env.publicClient.getTransactionCount({ address: addr(env, S) });
    const receipt = await send(env, S, {
      address: env.channels,
      abi: microTransferChannelsAbi,
      functionName: "createChannelWithPermit",
      args: [addr(env, RECEIVER), deposit, maxUint256, v, r, s],
    });
    const openBlock = Number(receipt.blockNumber);
    const [ev] = parseEventLogs({ abi: microTransferChannelsAbi, logs: receipt.logs, eventName: "ChannelCreated" });
    expect(ev?.args).toEqual({ sender: addr(env, S), receiver: addr(env, RECEIVER), openBlock, deposit });
    expect((await channelInfo(env, S, openBlock)).deposit).toBe(deposit);
    expect(await tokenBalance(env, addr(env, S))).toBe(MINTED - deposit);
    // One transaction: no approve was sent.
    expect(await env.publicClient.getTransactionCount({ address: addr(env, S) })).toBe(nonceBefore + 1);
  });

  it("still opens the channel when the permit was front-run", async () => {
    const deposit = 300n;
    const { v, r, s } = await signPermit(S, deposit, maxUint256);
    // Someone else submits the same permit first: the nonce is used, the allowance is set.
    await send(env, OTHER, {
      address: env.token,
      abi: testTokenAbi,
      functionName: "permit",
      args: [addr(env, S), env.channels, deposit, maxUint256, v, r, s],
    });
    const receipt = await send(env, S, {
      address: env.channels,
      abi: microTransferChannelsAbi,
      functionName: "createChannelWithPermit",
      args: [addr(env, RECEIVER), deposit, maxUint256, v, r, s],
    });
    expect((await channelInfo(env, S, Number(receipt.blockNumber))).deposit).toBe(deposit);
  });

  it("reverts with PermitFailed for a bad permit and no allowance", async () => {
    const { v, r, s } = await signPermit(S, 300n, maxUint256);
    await expectRevert(
      () =>
        env.wallets[S]!.writeContract({
          address: env.channels,
          abi: microTransferChannelsAbi,
          functionName: "createChannelWithPermit",
          args: [addr(env, RECEIVER), 301n, maxUint256, v, r, s],
        }),
      "PermitFailed",
    );
  });
});

describe("topUp", () => {
  const topUp = (sender: number, receiver: Address, openBlock: number, added: bigint) =>
    env.wallets[sender]!.writeContract({
      address: env.channels,
      abi: microTransferChannelsAbi,
      functionName: "topUp",
      args: [receiver, openBlock, added],
    });

  it("adds to the deposit and emits ChannelToppedUp", async () => {
    const { openBlock } = await openChannel(env, S, 100n);
    await send(env, S, { address: env.token, abi: testTokenAbi, functionName: "approve", args: [env.channels, 50n] });
    const receipt = await send(env, S, {
      address: env.channels,
      abi: microTransferChannelsAbi,
      functionName: "topUp",
      args: [addr(env, RECEIVER), openBlock, 50n],
    });
    const [ev] = parseEventLogs({ abi: microTransferChannelsAbi, logs: receipt.logs, eventName: "ChannelToppedUp" });
    expect(ev?.args).toEqual({ sender: addr(env, S), receiver: addr(env, RECEIVER), openBlock, added: 50n });
    expect((await channelInfo(env, S, openBlock)).deposit).toBe(150n);
    expect(await tokenBalance(env, env.channels)).toBe(150n);
  });

  it("refuses an unknown channel, a zero amount and a channel that is closing", async () => {
    const { openBlock } = await openChannel(env, S, 100n);
    await send(env, S, { address: env.token, abi: testTokenAbi, functionName: "approve", args: [env.channels, 50n] });
    await expectRevert(() => topUp(S, addr(env, RECEIVER), openBlock + 1, 5n), "ChannelNotFound");
    await expectRevert(() => topUp(S, addr(env, OTHER), openBlock, 5n), "ChannelNotFound");
    await expectRevert(() => topUp(S, addr(env, RECEIVER), openBlock, 0n), "ZeroDeposit");
    await send(env, S, {
      address: env.channels,
      abi: microTransferChannelsAbi,
      functionName: "uncooperativeClose",
      args: [addr(env, RECEIVER), openBlock, 10n],
    });
    await expectRevert(() => topUp(S, addr(env, RECEIVER), openBlock, 5n), "ChannelClosing");
  });

  it("reverts with DepositOverflow past uint192", async () => {
    const max192 = (1n << 192n) - 1n;
    await send(env, S, { address: env.token, abi: testTokenAbi, functionName: "mint", args: [addr(env, S), max192] });
    const { openBlock } = await openChannel(env, S, max192);
    await send(env, S, { address: env.token, abi: testTokenAbi, functionName: "approve", args: [env.channels, 1n] });
    await expectRevert(() => topUp(S, addr(env, RECEIVER), openBlock, 1n), "DepositOverflow");
  });
});

describe("getChannelInfo", () => {
  it("reverts with ChannelNotFound for an unknown channel", async () => {
    await expectRevert(
      () =>
        env.publicClient.readContract({
          address: env.channels,
          abi: microTransferChannelsAbi,
          functionName: "getChannelInfo",
          args: [addr(env, S), addr(env, RECEIVER), 1],
        }),
      "ChannelNotFound",
    );
  });
});

// Contract tests for TestToken's EIP-3009 side (contracts/TestToken.sol), what x402's `exact`
// scheme settles through: its metadata and EIP-712 domain, the public mint, EIP-2612 permit,
// and EIP-3009 (transferWithAuthorization in the (v, r, s) and `bytes` forms, receiveWithAuthorization,
// cancelAuthorization, authorizationState) signed as standard EIP-712 wallets sign them: viem's
// local account, and once anvil's own `eth_signTypedData_v4`. Every refusal is checked by its
// custom error name, decoded by viem against the token's ABI, including the exact edges of the
// validity window (block timestamps pinned with `evm_setNextBlockTimestamp`). The file starts
// its own anvil, deploys the token from the committed artifact and reverts the chain after
// each test.
import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  decodeErrorResult,
  domainSeparator,
  getAddress,
  http,
  keccak256,
  parseEventLogs,
  parseSignature,
  toHex,
  zeroAddress,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PrivateKeyAccount,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { anvil as anvilChain } from "viem/chains";
import { testTokenAbi } from "../../src/protocol/abi.js";
import { permitTypes } from "../../src/protocol/eip712.js";
import { ANVIL_KEYS, revert, rpc, snapshot, startAnvil, type AnvilHandle } from "../../scripts/anvil.js";

const abi = testTokenAbi;
const DEPLOYER = 0;
const RELAYER = 1; // submits authorizations it did not sign (the facilitator's role)
const PAYEE = 2;
const PAYER = 3;
const OTHER = 4;
const FUNDED = 1_000_000_000_000_000_000_000n; // 1000 tokens at 18 decimals

const authorizationFields = [
  { name: "from", type: "address" },
  { name: "to", type: "address" },
  { name: "value", type: "uint256" },
  { name: "validAfter", type: "uint256" },
  { name: "validBefore", type: "uint256" },
  { name: "nonce", type: "bytes32" },
] as const;
const types = {
  TransferWithAuthorization: authorizationFields,
  ReceiveWithAuthorization: authorizationFields,
  CancelAuthorization: [
    { name: "authorizer", type: "address" },
    { name: "nonce", type: "bytes32" },
  ],
} as const;

type Wallet = WalletClient<Transport, Chain, Account>;

let anvil: AnvilHandle;
let token: Address;
let chain: Chain;
let publicClient: PublicClient<Transport, Chain>;
let accounts: PrivateKeyAccount[];
let wallets: Wallet[];

beforeAll(async () => {
  anvil = await startAnvil();
  chain = { ...anvilChain, rpcUrls: { default: { http: [anvil.rpcUrl] } } };
  const transport = http(anvil.rpcUrl);
  publicClient = createPublicClient({ chain, transport, pollingInterval: 20 });
  accounts = ANVIL_KEYS.map((k) => privateKeyToAccount(k));
  wallets = accounts.map((account) => createWalletClient({ account, chain, transport, pollingInterval: 20 }));
  const artifact = JSON.parse(readFileSync(new URL("../../contracts/out/TestToken.json", import.meta.url), "utf8")) as {
    abi: unknown;
    bytecode: Hex;
  };
  expect(artifact.abi).toEqual(abi);
  const hash = await wallets[DEPLOYER]!.deployContract({ abi, bytecode: artifact.bytecode, args: [] });
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  expect(receipt.status).toBe("success");
  token = getAddress(receipt.contractAddress!);
  await send(DEPLOYER, "mint", [addr(PAYER), FUNDED]);
});

afterAll(async () => {
  await anvil?.stop();
});

let snapshotId: Hex | undefined;
beforeEach(async () => {
  snapshotId = await snapshot(anvil.rpcUrl);
});
afterEach(async () => {
  if (snapshotId) await revert(anvil.rpcUrl, snapshotId);
  snapshotId = undefined;
});

function addr(i: number): Address {
  return accounts[i]!.address;
}

function domain() {
  return { name: "Edge402 Test Token", version: "1", chainId: chain.id, verifyingContract: token } as const;
}

// biome-ignore lint/suspicious/noExplicitAny: any contract call of any ABI (viem's own parameter type)
type Args = readonly any[];

/** Sends `functionName(args)` from account `i`, asserts success, returns the receipt. */
async function send(i: number, functionName: string, args: Args, gas?: bigint): Promise<TransactionReceipt> {
  const receipt = await sendRaw(i, functionName, args, gas);
  expect(receipt.status).toBe("success");
  return receipt;
}

/** Sends without asserting the outcome (with `gas`, viem skips estimation, so a reverting call is mined). */
async function sendRaw(i: number, functionName: string, args: Args, gas?: bigint): Promise<TransactionReceipt> {
  const hash = await wallets[i]!.writeContract({
    address: token,
    abi,
    functionName: functionName as "mint",
    args: args as [Address, bigint],
    ...(gas === undefined ? {} : { gas }),
  });
  return publicClient.waitForTransactionReceipt({ hash });
}

async function read<T>(functionName: string, args: Args = []): Promise<T> {
  return (await publicClient.readContract({
    address: token,
    abi,
    functionName: functionName as "balanceOf",
    args: args as [Address],
  })) as T;
}

const balanceOf = (i: number) => read<bigint>("balanceOf", [addr(i)]);
const authorizationState = (authorizer: number, nonce: Hex) =>
  read<boolean>("authorizationState", [addr(authorizer), nonce]);

/** The custom error name a failed call reverted with (decoded against the token's ABI). */
function revertErrorName(err: unknown): string | undefined {
  if (!(err instanceof BaseError)) return undefined;
  const reverted = err.walk((e) => e instanceof ContractFunctionRevertedError);
  if (reverted instanceof ContractFunctionRevertedError && reverted.data?.errorName) return reverted.data.errorName;
  const withData = err.walk((e) => typeof (e as { data?: unknown }).data === "string");
  const data = (withData as { data?: unknown } | null)?.data;
  if (typeof data === "string" && data.startsWith("0x") && data.length >= 10) {
    try {
      return decodeErrorResult({ abi, data: data as Hex }).errorName;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Asserts that sending `functionName(args)` from account `i` reverts with `errorName` (and its args). */
async function expectRevert(i: number, functionName: string, args: Args, errorName: string, errorArgs?: Args) {
  let caught: unknown;
  try {
    await sendRaw(i, functionName, args);
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected a revert with ${errorName}`).toBeDefined();
  expect(revertErrorName(caught), `revert reason of: ${(caught as Error).message}`).toBe(errorName);
  if (errorArgs) {
    const reverted = (caught as BaseError).walk((e) => e instanceof ContractFunctionRevertedError);
    expect((reverted as ContractFunctionRevertedError).data?.args).toEqual(errorArgs);
  }
}

async function now(): Promise<bigint> {
  return (await publicClient.getBlock()).timestamp;
}

let nonceCounter = 0;
function freshNonce(): Hex {
  nonceCounter += 1;
  return keccak256(toHex(`token3009 test nonce ${nonceCounter}`));
}

interface Authorization {
  from: Address;
  to: Address;
  value: bigint;
  validAfter: bigint;
  validBefore: bigint;
  nonce: Hex;
}

async function authorization(overrides: Partial<Authorization> = {}): Promise<Authorization> {
  return {
    from: addr(PAYER),
    to: addr(PAYEE),
    value: 1_500_000n,
    validAfter: 0n,
    validBefore: (await now()) + 3600n,
    nonce: freshNonce(),
    ...overrides,
  };
}

function sign(
  signer: number,
  primaryType: "TransferWithAuthorization" | "ReceiveWithAuthorization",
  message: Authorization,
): Promise<Hex> {
  return accounts[signer]!.signTypedData({ domain: domain(), types, primaryType, message });
}

function vrs(signature: Hex): [number, Hex, Hex] {
  const { r, s, v, yParity } = parseSignature(signature);
  return [Number(v ?? BigInt(yParity + 27)), r, s];
}

function authArgs(a: Authorization, signature: Hex): Args {
  return [a.from, a.to, a.value, a.validAfter, a.validBefore, a.nonce, ...vrs(signature)];
}

describe("token basics", () => {
  it("is Edge402 Test Token (E402T), 18 decimals, EIP-712 domain version 1 with the type hashes", async () => {
    expect(await read("name")).toBe("Edge402 Test Token");
    expect(await read("symbol")).toBe("E402T");
    expect(await read("decimals")).toBe(18);
    expect(await read("version")).toBe("1");
    expect(await read("DOMAIN_SEPARATOR")).toBe(domainSeparator({ domain: domain() }));
    const eip712 = await read<readonly unknown[]>("eip712Domain");
    expect(eip712.slice(1, 5)).toEqual(["Edge402 Test Token", "1", BigInt(chain.id), token]);
    expect(await read("TRANSFER_WITH_AUTHORIZATION_TYPEHASH")).toBe(
      keccak256(
        toHex(
          "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)",
        ),
      ),
    );
    expect(await read("RECEIVE_WITH_AUTHORIZATION_TYPEHASH")).toBe(
      keccak256(
        toHex(
          "ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)",
        ),
      ),
    );
    expect(await read("CANCEL_AUTHORIZATION_TYPEHASH")).toBe(
      keccak256(toHex("CancelAuthorization(address authorizer,bytes32 nonce)")),
    );
  });

  it("mint: anyone mints to anyone, raising the balance and the supply, with a Transfer from zero", async () => {
    const supply = await read<bigint>("totalSupply");
    const receipt = await send(OTHER, "mint", [addr(PAYEE), 42n]);
    expect(await balanceOf(PAYEE)).toBe(42n);
    expect(await read("totalSupply")).toBe(supply + 42n);
    const [ev] = parseEventLogs({ abi, logs: receipt.logs, eventName: "Transfer" });
    expect(ev?.args).toEqual({ from: zeroAddress, to: addr(PAYEE), value: 42n });
    await expectRevert(OTHER, "mint", [zeroAddress, 1n], "ERC20InvalidReceiver");
  });

  it("EIP-2612 permit sets the allowance once; the same signature cannot be replayed", async () => {
    const deadline = (await now()) + 3600n;
    const value = 5_000_000n;
    const signature = await accounts[PAYER]!.signTypedData({
      domain: domain(),
      types: permitTypes,
      primaryType: "Permit",
      message: { owner: addr(PAYER), spender: addr(RELAYER), value, nonce: 0n, deadline },
    });
    const args = [addr(PAYER), addr(RELAYER), value, deadline, ...vrs(signature)];
    await send(RELAYER, "permit", args);
    expect(await read("allowance", [addr(PAYER), addr(RELAYER)])).toBe(value);
    expect(await read("nonces", [addr(PAYER)])).toBe(1n);
    await expectRevert(RELAYER, "permit", args, "ERC2612InvalidSigner");
  });
});

describe("transferWithAuthorization", () => {
  it("moves the tokens on the payer's signature, marks the nonce used, emits AuthorizationUsed and Transfer", async () => {
    const a = await authorization();
    const signature = await sign(PAYER, "TransferWithAuthorization", a);
    expect(await authorizationState(PAYER, a.nonce)).toBe(false);

    const receipt = await send(RELAYER, "transferWithAuthorization", authArgs(a, signature));
    expect(await balanceOf(PAYER)).toBe(FUNDED - a.value);
    expect(await balanceOf(PAYEE)).toBe(a.value);
    expect(await balanceOf(RELAYER)).toBe(0n);
    expect(await authorizationState(PAYER, a.nonce)).toBe(true);

    const logs = parseEventLogs({ abi, logs: receipt.logs });
    expect(logs.map((l) => l.eventName)).toEqual(["AuthorizationUsed", "Transfer"]);
    expect(logs[0]!.args).toEqual({ authorizer: addr(PAYER), nonce: a.nonce });
    expect(logs[1]!.args).toEqual({ from: addr(PAYER), to: addr(PAYEE), value: a.value });
  });

  it("accepts a signature made by anvil's eth_signTypedData_v4 (a JSON-RPC wallet)", async () => {
    const a = await authorization({ value: 7n });
    const jsonRpcWallet = createWalletClient({ account: addr(PAYER), chain, transport: http(anvil.rpcUrl) });
    const signature = await jsonRpcWallet.signTypedData({
      domain: domain(),
      types,
      primaryType: "TransferWithAuthorization",
      message: a,
    });
    // The node's signer and viem's local signer agree (both deterministic RFC 6979).
    expect(signature).toBe(await sign(PAYER, "TransferWithAuthorization", a));
    // And the raw RPC, with the typed data as a JSON string, as wallets receive it.
    const raw = await rpc<Hex>(anvil.rpcUrl, "eth_signTypedData_v4", [
      addr(PAYER),
      JSON.stringify({
        domain: { ...domain() },
        types: {
          EIP712Domain: [
            { name: "name", type: "string" },
            { name: "version", type: "string" },
            { name: "chainId", type: "uint256" },
            { name: "verifyingContract", type: "address" },
          ],
          TransferWithAuthorization: authorizationFields,
        },
        primaryType: "TransferWithAuthorization",
        message: {
          ...a,
          value: a.value.toString(),
          validAfter: a.validAfter.toString(),
          validBefore: a.validBefore.toString(),
        },
      }),
    ]);
    expect(raw).toBe(signature);

    await send(RELAYER, "transferWithAuthorization", authArgs(a, raw));
    expect(await balanceOf(PAYEE)).toBe(7n);
    expect(await authorizationState(PAYER, a.nonce)).toBe(true);
  });

  it("the `bytes signature` form moves tokens and shares the nonce space with the (v, r, s) form", async () => {
    const a = await authorization();
    const signature = await sign(PAYER, "TransferWithAuthorization", a);
    const bytesArgs = [a.from, a.to, a.value, a.validAfter, a.validBefore, a.nonce, signature];
    await send(RELAYER, "transferWithAuthorization", bytesArgs);
    expect(await balanceOf(PAYEE)).toBe(a.value);
    await expectRevert(RELAYER, "transferWithAuthorization", authArgs(a, signature), "AuthorizationUsedOrCanceled", [
      addr(PAYER),
      a.nonce,
    ]);
    await expectRevert(RELAYER, "transferWithAuthorization", bytesArgs, "AuthorizationUsedOrCanceled");
    // A signature of the wrong length is refused, not mis-read.
    const b = await authorization();
    const short = (await sign(PAYER, "TransferWithAuthorization", b)).slice(0, -2) as Hex;
    await expectRevert(
      RELAYER,
      "transferWithAuthorization",
      [b.from, b.to, b.value, b.validAfter, b.validBefore, b.nonce, short],
      "InvalidAuthorizationSignature",
    );
  });

  it("replaying the same authorization reverts with AuthorizationUsedOrCanceled and moves nothing", async () => {
    const a = await authorization();
    const args = authArgs(a, await sign(PAYER, "TransferWithAuthorization", a));
    await send(RELAYER, "transferWithAuthorization", args);
    await expectRevert(RELAYER, "transferWithAuthorization", args, "AuthorizationUsedOrCanceled", [
      addr(PAYER),
      a.nonce,
    ]);
    // Even a fresh signature over other terms cannot reuse the nonce.
    const again = { ...a, value: 1n };
    await expectRevert(
      RELAYER,
      "transferWithAuthorization",
      authArgs(again, await sign(PAYER, "TransferWithAuthorization", again)),
      "AuthorizationUsedOrCanceled",
    );
    expect(await balanceOf(PAYEE)).toBe(a.value);
  });

  it("nonces are per authorizer: another payer may use the same nonce", async () => {
    await send(DEPLOYER, "mint", [addr(OTHER), 100n]);
    const a = await authorization();
    await send(RELAYER, "transferWithAuthorization", authArgs(a, await sign(PAYER, "TransferWithAuthorization", a)));
    const b = { ...a, from: addr(OTHER), value: 100n };
    expect(await authorizationState(OTHER, a.nonce)).toBe(false);
    await send(RELAYER, "transferWithAuthorization", authArgs(b, await sign(OTHER, "TransferWithAuthorization", b)));
    expect(await balanceOf(PAYEE)).toBe(a.value + 100n);
    expect(await authorizationState(OTHER, a.nonce)).toBe(true);
  });

  it("reverts with AuthorizationNotYetValid before validAfter and AuthorizationExpired from validBefore", async () => {
    const t = await now();
    const early = await authorization({ validAfter: t + 3600n, validBefore: t + 7200n });
    await expectRevert(
      RELAYER,
      "transferWithAuthorization",
      authArgs(early, await sign(PAYER, "TransferWithAuthorization", early)),
      "AuthorizationNotYetValid",
      [t + 3600n],
    );
    const late = await authorization({ validBefore: t - 1n });
    await expectRevert(
      RELAYER,
      "transferWithAuthorization",
      authArgs(late, await sign(PAYER, "TransferWithAuthorization", late)),
      "AuthorizationExpired",
      [t - 1n],
    );
    expect(await authorizationState(PAYER, early.nonce)).toBe(false);
    expect(await authorizationState(PAYER, late.nonce)).toBe(false);
    expect(await balanceOf(PAYER)).toBe(FUNDED);
  });

  it("the window is open exactly for validAfter < block.timestamp < validBefore", async () => {
    const t = (await now()) + 1000n;
    const a = await authorization({ validAfter: t, validBefore: t + 10n });
    const args = authArgs(a, await sign(PAYER, "TransferWithAuthorization", a));
    const GAS = 200_000n; // explicit gas: viem skips estimation, so a reverting transaction is mined

    /** Mines the transfer in a block at `timestamp`; returns the receipt and, when it reverted,
     * the error name of the same call replayed at that block. */
    async function at(timestamp: bigint) {
      await rpc(anvil.rpcUrl, "evm_setNextBlockTimestamp", [toHex(timestamp)]);
      const receipt = await sendRaw(RELAYER, "transferWithAuthorization", args, GAS);
      const block = await publicClient.getBlock({ blockNumber: receipt.blockNumber });
      expect(block.timestamp).toBe(timestamp);
      if (receipt.status === "success") return { receipt, error: undefined };
      let caught: unknown;
      try {
        await publicClient.simulateContract({
          address: token,
          abi,
          functionName: "transferWithAuthorization",
          args: args as [Address, Address, bigint, bigint, bigint, Hex, number, Hex, Hex],
          account: addr(RELAYER),
          blockNumber: receipt.blockNumber - 1n,
          blockOverrides: { time: timestamp },
        });
      } catch (err) {
        caught = err;
      }
      return { receipt, error: revertErrorName(caught) };
    }

    const atAfter = await at(t);
    expect(atAfter.receipt.status).toBe("reverted");
    expect(atAfter.error).toBe("AuthorizationNotYetValid");
    expect(await authorizationState(PAYER, a.nonce)).toBe(false);

    const snap = await snapshot(anvil.rpcUrl);
    const atBefore = await at(t + 10n);
    expect(atBefore.receipt.status).toBe("reverted");
    expect(atBefore.error).toBe("AuthorizationExpired");
    expect(await revert(anvil.rpcUrl, snap)).toBe(true);

    const first = await at(t + 1n);
    expect(first.receipt.status).toBe("success");
    expect(await balanceOf(PAYEE)).toBe(a.value);

    // The last open second works too (a second authorization with the same window).
    const b = { ...a, nonce: freshNonce() };
    const bArgs = authArgs(b, await sign(PAYER, "TransferWithAuthorization", b));
    await rpc(anvil.rpcUrl, "evm_setNextBlockTimestamp", [toHex(t + 9n)]);
    expect((await sendRaw(RELAYER, "transferWithAuthorization", bArgs, GAS)).status).toBe("success");
    expect(await balanceOf(PAYEE)).toBe(2n * a.value);
  });

  it("reverts with InvalidAuthorizationSignature for a wrong signer, altered terms, another domain or a high-s signature", async () => {
    const a = await authorization();
    // Signed by someone other than `from`.
    await expectRevert(
      RELAYER,
      "transferWithAuthorization",
      authArgs(a, await sign(OTHER, "TransferWithAuthorization", a)),
      "InvalidAuthorizationSignature",
    );
    // Signed by the payer, but submitted with a larger value or another payee.
    const signature = await sign(PAYER, "TransferWithAuthorization", a);
    await expectRevert(
      RELAYER,
      "transferWithAuthorization",
      authArgs({ ...a, value: a.value + 1n }, signature),
      "InvalidAuthorizationSignature",
    );
    await expectRevert(
      RELAYER,
      "transferWithAuthorization",
      authArgs({ ...a, to: addr(RELAYER) }, signature),
      "InvalidAuthorizationSignature",
    );
    // The right struct under another domain (version "2").
    const otherDomain = await accounts[PAYER]!.signTypedData({
      domain: { ...domain(), version: "2" },
      types,
      primaryType: "TransferWithAuthorization",
      message: a,
    });
    await expectRevert(RELAYER, "transferWithAuthorization", authArgs(a, otherDomain), "InvalidAuthorizationSignature");
    // A ReceiveWithAuthorization signature is not a TransferWithAuthorization.
    await expectRevert(
      RELAYER,
      "transferWithAuthorization",
      authArgs(a, await sign(PAYER, "ReceiveWithAuthorization", a)),
      "InvalidAuthorizationSignature",
    );
    // The malleable twin (n - s, flipped v) of a valid signature.
    const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const [v, r, s] = vrs(signature);
    const highS = toHex(N - BigInt(s), { size: 32 });
    await expectRevert(
      RELAYER,
      "transferWithAuthorization",
      [a.from, a.to, a.value, a.validAfter, a.validBefore, a.nonce, v === 27 ? 28 : 27, r, highS],
      "InvalidAuthorizationSignature",
    );
    expect(await authorizationState(PAYER, a.nonce)).toBe(false);
    // The untouched signature still works afterwards.
    await send(RELAYER, "transferWithAuthorization", authArgs(a, signature));
    expect(await balanceOf(PAYEE)).toBe(a.value);
  });

  it("a valid authorization beyond the balance reverts with ERC20InsufficientBalance and leaves the nonce unused", async () => {
    const a = await authorization({ value: FUNDED + 1n });
    const args = authArgs(a, await sign(PAYER, "TransferWithAuthorization", a));
    await expectRevert(RELAYER, "transferWithAuthorization", args, "ERC20InsufficientBalance");
    expect(await authorizationState(PAYER, a.nonce)).toBe(false);
    await send(DEPLOYER, "mint", [addr(PAYER), 1n]);
    await send(RELAYER, "transferWithAuthorization", args);
    expect(await balanceOf(PAYER)).toBe(0n);
  });
});

describe("receiveWithAuthorization", () => {
  it("only the payee may submit it; it moves the tokens and emits AuthorizationUsed and Transfer", async () => {
    const a = await authorization();
    const args = authArgs(a, await sign(PAYER, "ReceiveWithAuthorization", a));
    await expectRevert(RELAYER, "receiveWithAuthorization", args, "CallerMustBePayee", [addr(RELAYER), addr(PAYEE)]);
    const receipt = await send(PAYEE, "receiveWithAuthorization", args);
    expect(await balanceOf(PAYEE)).toBe(a.value);
    expect(await authorizationState(PAYER, a.nonce)).toBe(true);
    const logs = parseEventLogs({ abi, logs: receipt.logs });
    expect(logs.map((l) => l.eventName)).toEqual(["AuthorizationUsed", "Transfer"]);
    expect(logs[0]!.args).toEqual({ authorizer: addr(PAYER), nonce: a.nonce });
    await expectRevert(PAYEE, "receiveWithAuthorization", args, "AuthorizationUsedOrCanceled");
  });

  it("refuses a TransferWithAuthorization signature, a wrong signer and an expired window", async () => {
    const a = await authorization();
    await expectRevert(
      PAYEE,
      "receiveWithAuthorization",
      authArgs(a, await sign(PAYER, "TransferWithAuthorization", a)),
      "InvalidAuthorizationSignature",
    );
    await expectRevert(
      PAYEE,
      "receiveWithAuthorization",
      authArgs(a, await sign(OTHER, "ReceiveWithAuthorization", a)),
      "InvalidAuthorizationSignature",
    );
    const late = await authorization({ validBefore: (await now()) - 1n });
    await expectRevert(
      PAYEE,
      "receiveWithAuthorization",
      authArgs(late, await sign(PAYER, "ReceiveWithAuthorization", late)),
      "AuthorizationExpired",
    );
    expect(await balanceOf(PAYEE)).toBe(0n);
  });
});

describe("cancelAuthorization", () => {
  async function signCancel(signer: number, authorizer: Address, nonce: Hex) {
    return accounts[signer]!.signTypedData({
      domain: domain(),
      types,
      primaryType: "CancelAuthorization",
      message: { authorizer, nonce },
    });
  }

  it("cancels an unused nonce (emits AuthorizationCanceled); the authorization then reverts", async () => {
    const a = await authorization();
    const transferArgs = authArgs(a, await sign(PAYER, "TransferWithAuthorization", a));
    const receipt = await send(RELAYER, "cancelAuthorization", [
      addr(PAYER),
      a.nonce,
      ...vrs(await signCancel(PAYER, addr(PAYER), a.nonce)),
    ]);
    const logs = parseEventLogs({ abi, logs: receipt.logs });
    expect(logs.map((l) => l.eventName)).toEqual(["AuthorizationCanceled"]);
    expect(logs[0]!.args).toEqual({ authorizer: addr(PAYER), nonce: a.nonce });
    expect(await authorizationState(PAYER, a.nonce)).toBe(true);
    await expectRevert(RELAYER, "transferWithAuthorization", transferArgs, "AuthorizationUsedOrCanceled");
    expect(await balanceOf(PAYER)).toBe(FUNDED);
  });

  it("refuses a used or already canceled nonce and a signature by anyone but the authorizer", async () => {
    const a = await authorization();
    await send(RELAYER, "transferWithAuthorization", authArgs(a, await sign(PAYER, "TransferWithAuthorization", a)));
    await expectRevert(
      RELAYER,
      "cancelAuthorization",
      [addr(PAYER), a.nonce, ...vrs(await signCancel(PAYER, addr(PAYER), a.nonce))],
      "AuthorizationUsedOrCanceled",
    );

    const nonce = freshNonce();
    await expectRevert(
      RELAYER,
      "cancelAuthorization",
      [addr(PAYER), nonce, ...vrs(await signCancel(OTHER, addr(PAYER), nonce))],
      "InvalidAuthorizationSignature",
    );
    expect(await authorizationState(PAYER, nonce)).toBe(false);
    const cancelArgs = [addr(PAYER), nonce, ...vrs(await signCancel(PAYER, addr(PAYER), nonce))];
    await send(RELAYER, "cancelAuthorization", cancelArgs);
    await expectRevert(RELAYER, "cancelAuthorization", cancelArgs, "AuthorizationUsedOrCanceled");
  });
});

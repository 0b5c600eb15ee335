// contracts/deploy.ts owns putting the contracts on a chain. `deployContracts()` deploys
// TestToken (unless an existing token address is given) and then MicroTransferChannels(token,
// challengePeriod) from one private key over a plain JSON-RPC URL with viem, waits for both
// receipts, and returns the chain id, both addresses, the deployer and the channel manager's
// deploy block (where an event scan should start). The bytecode comes from the committed
// artifacts `contracts/out/<Name>.json` (see contracts/build.ts), read with fs so it works the
// same under tsx, vitest and plain Node. Run as a script
// (`npm run deploy:contracts -- --rpc-url URL [--challenge-period N] [--token ADDR]`, key in
// `DEPLOYER_PRIVATE_KEY`) it prints the result as one JSON object on stdout.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  http,
  isAddress,
  isHex,
  type Abi,
  type Address,
  type Hex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";

export interface DeployOptions {
  rpcUrl: string;
  privateKey: Hex;
  /** Challenge period in blocks; default 500 (the contract's minimum). */
  challengePeriod?: number;
  /** Reuse this ERC-20 instead of deploying a fresh TestToken. */
  token?: Address;
}

export interface Deployment {
  chainId: number;
  token: Address;
  channels: Address;
  /** Block of the MicroTransferChannels deployment. */
  deployBlock: bigint;
  deployer: Address;
}

export const DEFAULT_CHALLENGE_PERIOD = 500;

/** TestToken's EIP-712 domain name and version (its ERC20Permit's), which EIP-3009 signs over. */
export const TEST_TOKEN_DOMAIN = { name: "Edge402 Test Token", version: "1" } as const;

const CONTRACTS_DIR = dirname(fileURLToPath(import.meta.url));

/** Reads `contracts/out/<name>.json` ({abi, bytecode}) as written by contracts/build.ts. */
export function readArtifact(name: "MicroTransferChannels" | "TestToken"): { abi: Abi; bytecode: Hex } {
  const path = join(CONTRACTS_DIR, "out", `${name}.json`);
  let parsed: { abi?: Abi; bytecode?: string };
  try {
    parsed = JSON.parse(readFileSync(path, "utf8")) as { abi?: Abi; bytecode?: string };
  } catch (err) {
    throw new Error(`cannot read ${path} (${(err as Error).message}); run npm run build:contracts`);
  }
  if (
    !Array.isArray(parsed.abi) ||
    typeof parsed.bytecode !== "string" ||
    !isHex(parsed.bytecode) ||
    parsed.bytecode.length <= 2
  ) {
    throw new Error(`${path} is not a valid artifact; run npm run build:contracts`);
  }
  return { abi: parsed.abi, bytecode: parsed.bytecode };
}

/** Deploys TestToken (unless `token` is given) and MicroTransferChannels; see the module comment. */
export async function deployContracts(opts: DeployOptions): Promise<Deployment> {
  const challengePeriod = opts.challengePeriod ?? DEFAULT_CHALLENGE_PERIOD;
  if (!Number.isInteger(challengePeriod) || challengePeriod < 0 || challengePeriod > 0xffffffff) {
    throw new Error(`challengePeriod must be a uint32, got ${challengePeriod}`);
  }
  const account = privateKeyToAccount(opts.privateKey);
  const transport = http(opts.rpcUrl);
  const probe = createPublicClient({ transport });
  const chainId = await probe.getChainId();
  const chain = defineChain({
    id: chainId,
    name: `chain-${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [opts.rpcUrl] } },
  });
  const publicClient = createPublicClient({ chain, transport });
  const walletClient = createWalletClient({ account, chain, transport });

  async function deploy(name: "MicroTransferChannels" | "TestToken", args: readonly unknown[]) {
    const { abi, bytecode } = readArtifact(name);
    const hash = await walletClient.deployContract({ abi, bytecode, args });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success" || !receipt.contractAddress) {
      throw new Error(`deploying ${name} failed (transaction ${hash}, status ${receipt.status})`);
    }
    return { address: getAddress(receipt.contractAddress), blockNumber: receipt.blockNumber };
  }

  let token: Address;
  if (opts.token !== undefined) {
    if (!isAddress(opts.token)) throw new Error(`token is not an address: ${opts.token}`);
    token = getAddress(opts.token);
  } else {
    token = (await deploy("TestToken", [])).address;
  }
  const channels = await deploy("MicroTransferChannels", [token, challengePeriod]);
  return { chainId, token, channels: channels.address, deployBlock: channels.blockNumber, deployer: account.address };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      "rpc-url": { type: "string" },
      "challenge-period": { type: "string" },
      token: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  const usage =
    "usage: DEPLOYER_PRIVATE_KEY=0x... tsx contracts/deploy.ts --rpc-url URL [--challenge-period N] [--token ADDRESS]";
  if (values.help) {
    console.log(usage);
    return;
  }
  const rpcUrl = values["rpc-url"];
  const privateKey = process.env.DEPLOYER_PRIVATE_KEY;
  if (!rpcUrl) throw new Error(`--rpc-url is required\n${usage}`);
  if (!privateKey || !/^0x[0-9a-fA-F]{64}$/.test(privateKey)) {
    throw new Error(`DEPLOYER_PRIVATE_KEY must be set to a 0x-prefixed 32-byte hex key\n${usage}`);
  }
  let challengePeriod: number | undefined;
  if (values["challenge-period"] !== undefined) {
    if (!/^\d+$/.test(values["challenge-period"])) throw new Error("--challenge-period must be a decimal integer");
    challengePeriod = Number(values["challenge-period"]);
  }
  if (values.token !== undefined && !isAddress(values.token))
    throw new Error(`--token is not an address: ${values.token}`);
  const result = await deployContracts({
    rpcUrl,
    privateKey: privateKey as Hex,
    challengePeriod,
    token: values.token as Address | undefined,
  });
  // deployBlock is printed as a decimal string (PROTOCOL.md's convention for integers).
  console.log(JSON.stringify({ ...result, deployBlock: result.deployBlock.toString() }, null, 2));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}

// contracts/build.ts owns turning the Solidity sources into the artifacts the rest of the
// project uses. It compiles `contracts/MicroTransferChannels.sol` and `contracts/TestToken.sol`
// (EIP-2612 and EIP-3009, like USDC) with the solc-js compiler bundled in
// the `solc` npm package (0.8.30, standard JSON, optimizer
// on with 200 runs, evmVersion "cancun", no via-IR; `@openzeppelin/...` imports resolved from
// node_modules), writes `contracts/out/<Name>.json` as `{"abi": [...], "bytecode": "0x..."}`
// (PROTOCOL.md section 1), the generated `src/protocol/abi.ts` (ABIs only, `as const` for
// viem's types) and the generated `src/protocol/channel-code.ts`: the channel manager's runtime
// code with its immutables zeroed and where each immutable sits (solc's `immutableReferences`,
// named from the AST), which the client compares a contract's on-chain code with before it
// trusts it with a deposit. The test-only contracts in `contracts/test/*.sol` (hostile tokens
// and a fake channel manager) are compiled in a separate run, so they can never change the
// real artifacts, into `contracts/out/test/<Name>.json`. The output is deterministic, so
// `test/contracts/artifacts.test.ts` can compile afresh with `compileContracts()` and compare
// with the committed files through `renderArtifacts()`. Run it with `npm run build:contracts`;
// it exits non-zero with the compiler's messages on any compile error. Nothing here ever
// downloads a compiler.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import solc from "solc";

/** The contracts this project compiles, each from `contracts/<Name>.sol`. */
export const CONTRACT_NAMES = ["MicroTransferChannels", "TestToken"] as const;
export type ContractName = (typeof CONTRACT_NAMES)[number];

/** Test-only contracts, each from `contracts/test/<Name>.sol`, compiled in their own run. */
export const TEST_CONTRACT_NAMES = ["MaliciousChannels", "ForgingToken", "FeeOnTransferToken"] as const;
export type TestContractName = (typeof TEST_CONTRACT_NAMES)[number];

/** One compiled contract, exactly as stored in `contracts/out/<Name>.json`. */
export interface CompiledContract {
  abi: unknown[];
  bytecode: `0x${string}`;
}

/** The channel manager's runtime code (immutables zeroed) and each immutable's byte offsets. */
export interface ChannelRuntime {
  code: `0x${string}`;
  immutables: Array<{ name: string; offsets: number[] }>;
}

export type CompiledContracts = Record<ContractName, CompiledContract> & {
  /** MicroTransferChannels as deployed, for the client's code check. */
  channelRuntime: ChannelRuntime;
  tests: Record<TestContractName, CompiledContract>;
};

/** The solc version the artifacts must come from (the one bundled with the `solc` package). */
export const SOLC_VERSION = "0.8.30";

/** Absolute path of the repository root (the parent of this file's directory). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

const require = createRequire(import.meta.url);

/** Path (relative to the repository root) of each generated file. */
export function artifactPath(name: ContractName): string {
  return `contracts/out/${name}.json`;
}
export function testArtifactPath(name: TestContractName): string {
  return `contracts/out/test/${name}.json`;
}
export const ABI_TS_PATH = "src/protocol/abi.ts";
export const CHANNEL_CODE_TS_PATH = "src/protocol/channel-code.ts";

interface SolcMessage {
  severity: "error" | "warning" | "info";
  formattedMessage?: string;
  message: string;
}

interface SolcContract {
  abi: unknown[];
  evm: {
    bytecode: { object: string };
    deployedBytecode?: {
      object: string;
      immutableReferences?: Record<string, Array<{ start: number; length: number }>>;
    };
  };
}

interface SolcOutput {
  errors?: SolcMessage[];
  contracts?: Record<string, Record<string, SolcContract>>;
  sources?: Record<string, { ast?: unknown }>;
}

/** Resolves a Solidity import for the compiler: `@openzeppelin/...` from node_modules, other
 * paths relative to the repository root. */
function findImport(path: string): { contents: string } | { error: string } {
  try {
    let file: string;
    if (path.startsWith("@openzeppelin/")) {
      const pkgJson = require.resolve("@openzeppelin/contracts/package.json", { paths: [REPO_ROOT] });
      file = join(dirname(pkgJson), path.slice("@openzeppelin/contracts/".length));
    } else {
      file = join(REPO_ROOT, path);
    }
    return { contents: readFileSync(file, "utf8") };
  } catch (err) {
    return { error: `cannot read import ${path}: ${(err as Error).message}` };
  }
}

/** Runs solc on `units` (paths relative to the repository root). Throws an Error carrying every
 * compiler error message. `runtime` also asks for the deployed code, its immutables and the AST. */
function solcCompile(units: string[], runtime: boolean): SolcOutput {
  const version = String(solc.version());
  if (!version.startsWith(`${SOLC_VERSION}+`)) {
    throw new Error(`expected the bundled solc ${SOLC_VERSION}, found ${version}; run npm install`);
  }
  const sources: Record<string, { content: string }> = {};
  for (const unit of units) sources[unit] = { content: readFileSync(join(REPO_ROOT, unit), "utf8") };
  const selection = runtime
    ? {
        "*": {
          "*": [
            "abi",
            "evm.bytecode.object",
            "evm.deployedBytecode.object",
            "evm.deployedBytecode.immutableReferences",
          ],
          "": ["ast"],
        },
      }
    : { "*": { "*": ["abi", "evm.bytecode.object"] } };
  const input = {
    language: "Solidity",
    sources,
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: "cancun",
      viaIR: false,
      outputSelection: selection,
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as SolcOutput;
  const messages = output.errors ?? [];
  const errors = messages.filter((m) => m.severity === "error");
  if (errors.length > 0) {
    const text = errors.map((m) => m.formattedMessage ?? m.message).join("\n");
    throw new Error(`Solidity compilation failed (solc ${version}):\n${text}`);
  }
  for (const m of messages) {
    if (m.severity === "warning") process.stderr.write(`solc warning: ${m.formattedMessage ?? m.message}\n`);
  }
  return output;
}

function contractOf(output: SolcOutput, unit: string, name: string): SolcContract {
  const compiled = output.contracts?.[unit]?.[name];
  if (!compiled?.evm.bytecode.object) throw new Error(`Solidity compilation produced no bytecode for ${name}`);
  return compiled;
}

/** Names every immutable of `compiled` (`Contract.variable`, from the AST) with its byte offsets. */
function channelRuntime(output: SolcOutput, compiled: SolcContract): ChannelRuntime {
  const deployed = compiled.evm.deployedBytecode;
  if (!deployed?.object) throw new Error("Solidity compilation produced no runtime code for MicroTransferChannels");
  const refs = deployed.immutableReferences ?? {};
  const names = new Map<number, string>();
  const visit = (node: unknown, contract: string | undefined): void => {
    if (Array.isArray(node)) {
      for (const n of node) visit(n, contract);
      return;
    }
    if (!node || typeof node !== "object") return;
    const n = node as { nodeType?: string; id?: number; name?: string };
    const inside = n.nodeType === "ContractDefinition" ? n.name : contract;
    if (n.nodeType === "VariableDeclaration" && n.id !== undefined && String(n.id) in refs)
      names.set(n.id, `${contract}.${n.name}`);
    for (const value of Object.values(node)) visit(value, inside);
  };
  for (const source of Object.values(output.sources ?? {})) visit(source.ast, undefined);
  const immutables = Object.entries(refs).map(([id, ranges]) => {
    const name = names.get(Number(id));
    if (!name) throw new Error(`immutable ${id} of MicroTransferChannels has no declaration in the AST`);
    for (const r of ranges) if (r.length !== 32) throw new Error(`immutable ${name} is ${r.length} bytes, expected 32`);
    return { name, offsets: ranges.map((r) => r.start).sort((a, b) => a - b) };
  });
  immutables.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { code: `0x${deployed.object}`, immutables };
}

/** Compiles every contract in memory (the test-only ones in a run of their own). Throws an
 * Error carrying every compiler error message. */
export function compileContracts(): CompiledContracts {
  const output = solcCompile(
    CONTRACT_NAMES.map((name) => `contracts/${name}.sol`),
    true,
  );
  const tests = solcCompile(
    TEST_CONTRACT_NAMES.map((name) => `contracts/test/${name}.sol`),
    false,
  );
  const result = { tests: {} } as CompiledContracts;
  for (const name of CONTRACT_NAMES) {
    const compiled = contractOf(output, `contracts/${name}.sol`, name);
    result[name] = { abi: compiled.abi, bytecode: `0x${compiled.evm.bytecode.object}` };
  }
  result.channelRuntime = channelRuntime(
    output,
    contractOf(output, "contracts/MicroTransferChannels.sol", "MicroTransferChannels"),
  );
  for (const name of TEST_CONTRACT_NAMES) {
    const compiled = contractOf(tests, `contracts/test/${name}.sol`, name);
    result.tests[name] = { abi: compiled.abi, bytecode: `0x${compiled.evm.bytecode.object}` };
  }
  return result;
}

/** The exact text of every generated file, keyed by path relative to the repository root. */
export function renderArtifacts(compiled: CompiledContracts): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of CONTRACT_NAMES) {
    const { abi, bytecode } = compiled[name];
    files[artifactPath(name)] = `${JSON.stringify({ abi, bytecode }, null, 2)}\n`;
  }
  for (const name of TEST_CONTRACT_NAMES) {
    const { abi, bytecode } = compiled.tests[name];
    files[testArtifactPath(name)] = `${JSON.stringify({ abi, bytecode }, null, 2)}\n`;
  }
  files[ABI_TS_PATH] = [
    "// GENERATED FILE, do not edit: written by contracts/build.ts (npm run build:contracts)",
    `// from contracts/*.sol with solc ${SOLC_VERSION}. It holds the ABIs of MicroTransferChannels`,
    "// (the channel manager of PROTOCOL.md section 1) and TestToken (EIP-2612 and EIP-3009, the token",
    "// of tests and local runs), typed `as const` for viem;",
    "// the deployable bytecode lives in contracts/out/*.json.",
    "",
    `export const microTransferChannelsAbi = ${JSON.stringify(compiled.MicroTransferChannels.abi, null, 2)} as const;`,
    "",
    `export const testTokenAbi = ${JSON.stringify(compiled.TestToken.abi, null, 2)} as const;`,
    "",
  ].join("\n");
  const { code, immutables } = compiled.channelRuntime;
  files[CHANNEL_CODE_TS_PATH] = [
    "// GENERATED FILE, do not edit: written by contracts/build.ts (npm run build:contracts)",
    `// from contracts/MicroTransferChannels.sol with solc ${SOLC_VERSION}. The channel manager's runtime`,
    "// code exactly as this build deploys it, CBOR metadata included, but with every immutable",
    "// (32 bytes at each offset below: token, challenge period, the EIP-712 cache) left as zeros,",
    "// since the constructor writes those per deployment. The client's code check",
    "// (src/client/contract-code.ts) fills them in and compares with a contract's on-chain code.",
    "",
    "/** The runtime code with every immutable zeroed. */",
    `export const microTransferChannelsRuntime = "${code}" as const;`,
    "",
    "/** Each immutable, named `Contract.variable`, and the byte offsets of its 32-byte slots. */",
    "export const microTransferChannelsImmutables: ReadonlyArray<{ readonly name: string; readonly offsets: readonly number[] }> = [",
    ...immutables.map((i) => `  ${JSON.stringify(i)},`),
    "];",
    "",
  ].join("\n");
  return files;
}

/** Compiles and writes every generated file; returns the paths written. */
export function buildContracts(): string[] {
  const files = renderArtifacts(compileContracts());
  for (const [rel, text] of Object.entries(files)) {
    const abs = join(REPO_ROOT, rel);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, text);
  }
  return Object.keys(files);
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  try {
    for (const path of buildContracts()) console.log(`wrote ${path}`);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}

// contracts/build.ts owns turning the Solidity sources into the artifacts the rest of the
// project uses. It compiles `contracts/MicroTransferChannels.sol`, `contracts/TestToken.sol` and
// `contracts/TestToken3009.sol` (the bench's EIP-3009 token) with the solc-js compiler bundled in
// the `solc` npm package (0.8.30, standard JSON, optimizer
// on with 200 runs, evmVersion "cancun", no via-IR; `@openzeppelin/...` imports resolved from
// node_modules), writes `contracts/out/<Name>.json` as `{"abi": [...], "bytecode": "0x..."}`
// (PROTOCOL.md section 1) and the generated `src/protocol/abi.ts` (ABIs only, `as const` for
// viem's types). The output is deterministic, so `test/contracts/artifacts.test.ts` can compile
// afresh with `compileContracts()` and compare with the committed files through
// `renderArtifacts()`. Run it with `npm run build:contracts`; it exits non-zero with the
// compiler's messages on any compile error. Nothing here ever downloads a compiler.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import solc from "solc";

/** The contracts this project compiles, each from `contracts/<Name>.sol`. */
export const CONTRACT_NAMES = ["MicroTransferChannels", "TestToken", "TestToken3009"] as const;
export type ContractName = (typeof CONTRACT_NAMES)[number];

/** One compiled contract, exactly as stored in `contracts/out/<Name>.json`. */
export interface CompiledContract {
  abi: unknown[];
  bytecode: `0x${string}`;
}

export type CompiledContracts = Record<ContractName, CompiledContract>;

/** The solc version the artifacts must come from (the one bundled with the `solc` package). */
export const SOLC_VERSION = "0.8.30";

/** Absolute path of the repository root (the parent of this file's directory). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

const require = createRequire(import.meta.url);

/** Path (relative to the repository root) of each generated file. */
export function artifactPath(name: ContractName): string {
  return `contracts/out/${name}.json`;
}
export const ABI_TS_PATH = "src/protocol/abi.ts";

interface SolcMessage {
  severity: "error" | "warning" | "info";
  formattedMessage?: string;
  message: string;
}

interface SolcOutput {
  errors?: SolcMessage[];
  contracts?: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>;
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

/** Compiles both contracts in memory. Throws an Error carrying every compiler error message. */
export function compileContracts(): CompiledContracts {
  const version = String(solc.version());
  if (!version.startsWith(`${SOLC_VERSION}+`)) {
    throw new Error(`expected the bundled solc ${SOLC_VERSION}, found ${version}; run npm install`);
  }
  const sources: Record<string, { content: string }> = {};
  for (const name of CONTRACT_NAMES) {
    const unit = `contracts/${name}.sol`;
    sources[unit] = { content: readFileSync(join(REPO_ROOT, unit), "utf8") };
  }
  const input = {
    language: "Solidity",
    sources,
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: "cancun",
      viaIR: false,
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
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

  const result = {} as CompiledContracts;
  for (const name of CONTRACT_NAMES) {
    const compiled = output.contracts?.[`contracts/${name}.sol`]?.[name];
    if (!compiled || !compiled.evm.bytecode.object) {
      throw new Error(`Solidity compilation produced no bytecode for ${name}`);
    }
    result[name] = { abi: compiled.abi, bytecode: `0x${compiled.evm.bytecode.object}` };
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
  files[ABI_TS_PATH] = [
    "// GENERATED FILE, do not edit: written by contracts/build.ts (npm run build:contracts)",
    `// from contracts/*.sol with solc ${SOLC_VERSION}. It holds the ABIs of MicroTransferChannels`,
    "// (the channel manager of PROTOCOL.md section 1), TestToken and TestToken3009 (the EIP-3009",
    "// token of the benchmark's x402 peer), typed `as const` for viem;",
    "// the deployable bytecode lives in contracts/out/*.json.",
    "",
    `export const microTransferChannelsAbi = ${JSON.stringify(compiled.MicroTransferChannels.abi, null, 2)} as const;`,
    "",
    `export const testTokenAbi = ${JSON.stringify(compiled.TestToken.abi, null, 2)} as const;`,
    "",
    `export const testToken3009Abi = ${JSON.stringify(compiled.TestToken3009.abi, null, 2)} as const;`,
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

const invokedDirectly =
  process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  try {
    for (const path of buildContracts()) console.log(`wrote ${path}`);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}

// The maintainer's tool that produces `src/protocol/secp/secp256k1.wasm` (committed, like the
// contract artifacts); nothing at run time imports it. It compiles `secp256k1-recover.c` (our
// glue: Keccak-256, the EIP-712 digest, the signer's address) together with the unmodified
// libsecp256k1 v0.5.0 release (bitcoin-core/secp256k1, recovery module) for wasm32 with clang
// and wasm-ld. The configuration is what makes it fast in WebAssembly: the 10x26 field and
// 8x32 scalar (`USE_FORCE_WIDEMUL_INT64`: WebAssembly multiplies 64-bit integers natively but
// has no 128-bit product, which the published npm builds emulate and lose ~3x to), the static
// context with its precomputed tables compiled in (nothing is computed at load), and a small
// `ECMULT_WINDOW_SIZE` (8: a 56 KB module; 15 would be 1 MB for ~5% speed).
//
//   npm run build:secp256k1                 # fetches the source from Debian (trixie, 0.5.0-2)
//   npm run build:secp256k1 -- --src DIR    # or uses an extracted libsecp256k1-0.5.0 tree
//
// Needs clang (>= 14) and wasm-ld (Debian: `apt-get install clang lld`). Without --src it runs
// `apt-get source` with a private apt configuration in a temporary directory (the system's
// apt configuration is not touched) and checks the tarball's SHA-256 before using it.
//
// Beside the module it writes secp256k1.manifest.json: the SHA-256 of every input (the glue C
// source, the freestanding headers, the compiler flags, the libsecp256k1 release and its
// tarball's hash) and of the module. CI has no clang to rebuild with, so
// test/unit/secp256k1-wasm.test.ts checks the manifest instead: it fails when an input changed
// without a rebuild, or when the committed module is not the one the manifest names.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
export const WASM_PATH = join(HERE, "secp256k1.wasm");
export const MANIFEST_PATH = join(HERE, "secp256k1.manifest.json");
const GLUE = join(HERE, "secp256k1-recover.c");

/** The upstream release, as Debian ships it (libsecp256k1_0.5.0.orig.tar.xz). */
export const LIBSECP256K1_VERSION = "0.5.0";
const ORIG_TARBALL = "libsecp256k1_0.5.0.orig.tar.xz";
const ORIG_SHA256 = "13b70138be52d7a23bdf0ea39ed79799a30eb855f2ed82c028357f6432cd536b";

export const BUILD_DEFINES = ["ECMULT_WINDOW_SIZE=8", "COMB_BLOCKS=2", "COMB_TEETH=5", "USE_FORCE_WIDEMUL_INT64=1"];

/** Headers for a freestanding wasm32 build: the library includes these, the glue defines them. */
const SYSROOT: Record<string, string> = {
  "stdlib.h": "#pragma once\n#include <stddef.h>\nvoid *malloc(size_t);\nvoid free(void *);\nvoid abort(void);\n",
  "string.h":
    "#pragma once\n#include <stddef.h>\nvoid *memcpy(void *restrict, const void *restrict, size_t);\n" +
    "void *memmove(void *, const void *, size_t);\nvoid *memset(void *, int, size_t);\nint memcmp(const void *, const void *, size_t);\n",
  "stdio.h": "#pragma once\nint printf(const char *, ...);\n",
};

/** clang's flags besides the include paths and the output (the defines come from BUILD_DEFINES). */
const CLANG_FLAGS = [
  "--target=wasm32",
  "-O3",
  "-nostdlib",
  "-ffreestanding",
  "-Wall",
  "-Wno-unused-function",
  ...BUILD_DEFINES.map((d) => `-D${d}`),
  "-Wl,--no-entry",
  "-Wl,--gc-sections",
  "-Wl,-z,stack-size=65536",
];

function sha256(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** What secp256k1.manifest.json records: the build's inputs, and the module built from them. */
export type WasmManifest = {
  inputs: {
    libsecp256k1: { version: string; tarball: string; sha256: string };
    glue: { file: string; sha256: string };
    sysroot: Record<string, string>;
    clangFlags: string[];
  };
  wasm: { file: string; bytes: number; sha256: string };
  /** The toolchain of the build that wrote it (the same inputs give the same module with it). */
  builtWith?: { clang: string; wasmLd: string };
};

/** The manifest of the current inputs and the given module bytes. */
export function wasmManifest(wasm: Buffer, builtWith?: WasmManifest["builtWith"]): WasmManifest {
  return {
    inputs: {
      libsecp256k1: { version: LIBSECP256K1_VERSION, tarball: ORIG_TARBALL, sha256: ORIG_SHA256 },
      glue: { file: "secp256k1-recover.c", sha256: sha256(readFileSync(GLUE)) },
      sysroot: Object.fromEntries(Object.entries(SYSROOT).map(([name, text]) => [name, sha256(text)])),
      clangFlags: CLANG_FLAGS,
    },
    wasm: { file: "secp256k1.wasm", bytes: wasm.length, sha256: sha256(wasm) },
    ...(builtWith ? { builtWith } : {}),
  };
}

function toolVersion(tool: string): string {
  return execFileSync(tool, ["--version"], { encoding: "utf8" }).split("\n")[0]!.trim();
}

export function renderManifest(m: WasmManifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}

function checkSource(dir: string): string {
  const configure = join(dir, "configure.ac");
  if (!existsSync(join(dir, "src", "secp256k1.c")) || !existsSync(configure)) {
    throw new Error(`${dir} is not a libsecp256k1 source tree (no src/secp256k1.c or configure.ac)`);
  }
  const text = readFileSync(configure, "utf8");
  const version = ["MAJOR", "MINOR", "PATCH"]
    .map((p) => new RegExp(`define\\(_PKG_VERSION_${p}, (\\d+)\\)`).exec(text)?.[1])
    .join(".");
  if (version !== LIBSECP256K1_VERSION)
    throw new Error(`expected libsecp256k1 ${LIBSECP256K1_VERSION}, found ${version} in ${dir}`);
  return dir;
}

/** Downloads the Debian source package into `work` with a private apt configuration. */
function fetchDebianSource(work: string): string {
  const parts = join(work, "sources.list.d");
  const lists = join(work, "lists");
  mkdirSync(join(lists, "partial"), { recursive: true });
  mkdirSync(parts, { recursive: true });
  writeFileSync(
    join(parts, "deb-src.sources"),
    "Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\n" +
      "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n",
  );
  const opts = [
    "-o",
    "Dir::Etc::SourceList=/dev/null",
    "-o",
    `Dir::Etc::SourceParts=${parts}`,
    "-o",
    `Dir::State::Lists=${lists}`,
  ];
  process.stderr.write("fetching the libsecp256k1 0.5.0 source package from Debian...\n");
  execFileSync("apt-get", [...opts, "update"], { cwd: work, stdio: ["ignore", "ignore", "inherit"] });
  execFileSync("apt-get", [...opts, "source", "--download-only", `libsecp256k1=${LIBSECP256K1_VERSION}-2`], {
    cwd: work,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const tarball = join(work, ORIG_TARBALL);
  const digest = sha256(readFileSync(tarball));
  if (digest !== ORIG_SHA256) throw new Error(`${ORIG_TARBALL}: SHA-256 ${digest}, expected ${ORIG_SHA256}`);
  execFileSync("tar", ["xJf", tarball], { cwd: work });
  const dir = readdirSync(work).find((d) => d.startsWith("libsecp256k1-"));
  if (!dir) throw new Error(`${ORIG_TARBALL} did not extract a libsecp256k1-* directory`);
  return join(work, dir);
}

/** Compiles the module from a checked libsecp256k1 tree; returns the wasm bytes. */
export function compileWasm(srcDir: string, work: string): Buffer {
  const sysroot = join(work, "sysroot");
  mkdirSync(sysroot, { recursive: true });
  for (const [name, text] of Object.entries(SYSROOT)) writeFileSync(join(sysroot, name), text);
  const out = join(work, "secp256k1.wasm");
  execFileSync(
    "clang",
    [...CLANG_FLAGS, "-isystem", sysroot, "-I", srcDir, "-I", join(srcDir, "src"), "-o", out, GLUE],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  return readFileSync(out);
}

function main(argv: string[]): void {
  const i = argv.indexOf("--src");
  const given = i >= 0 ? argv[i + 1] : process.env.LIBSECP256K1_SRC;
  const work = mkdtempSync(join(tmpdir(), "edge402-secp-"));
  try {
    const src = checkSource(given ? resolve(given) : fetchDebianSource(work));
    const wasm = compileWasm(src, work);
    writeFileSync(WASM_PATH, wasm);
    writeFileSync(
      MANIFEST_PATH,
      renderManifest(wasmManifest(wasm, { clang: toolVersion("clang"), wasmLd: toolVersion("wasm-ld") })),
    );
    console.log(`wrote ${WASM_PATH} (${wasm.length} bytes, sha256 ${sha256(wasm)})`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}

// Guards the committed verifier module like test/contracts/artifacts.test.ts guards the contract
// artifacts, without a compiler (CI has no clang): secp256k1.manifest.json, written by
// `npm run build:secp256k1` with the module, records the SHA-256 of every build input (the glue
// C source, the freestanding headers, clang's flags, the libsecp256k1 release) and of the
// module. The test fails when an input changed without a rebuild, and when secp256k1.wasm is not
// the module the manifest names.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  MANIFEST_PATH,
  WASM_PATH,
  renderManifest,
  wasmManifest,
  type WasmManifest,
} from "../../src/protocol/secp/build-wasm.js";

const REBUILD = "run npm run build:secp256k1 (needs clang and lld) and commit secp256k1.wasm with its manifest";

describe("secp256k1.wasm", () => {
  const committed = JSON.parse(readFileSync(MANIFEST_PATH, "utf8")) as WasmManifest;
  const now = wasmManifest(readFileSync(WASM_PATH));

  it("was built from the current C source, headers, flags and libsecp256k1 release", () => {
    if (JSON.stringify(now.inputs) !== JSON.stringify(committed.inputs)) {
      expect.soft(now.inputs).toEqual(committed.inputs);
      throw new Error(`the inputs of secp256k1.wasm changed since it was built: ${REBUILD}`);
    }
  });

  it("is the module its manifest names", () => {
    if (JSON.stringify(now.wasm) !== JSON.stringify(committed.wasm)) {
      throw new Error(
        `secp256k1.wasm (sha256 ${now.wasm.sha256}) is not the module of its manifest (${committed.wasm.sha256}): ${REBUILD}`,
      );
    }
  });

  it("has a manifest written by a build, naming its toolchain", () => {
    expect(readFileSync(MANIFEST_PATH, "utf8")).toBe(renderManifest(committed));
    expect(committed.builtWith).toEqual({
      clang: expect.stringContaining("clang version"),
      wasmLd: expect.stringContaining("LLD"),
    });
  });
});

// scripts/build.ts owns `npm run build` (also run by `npm pack` / `npm publish` through
// `prepack`, by `npm start` and by the e2e tests' global setup): it turns src/ into the
// package's dist/.
//
//   dist/<part>/**.js + .d.ts   the library, one ESM file per source file (tsc, tsconfig.build.json;
//                               `npm run typecheck` does the type checking, so this emit skips it).
//                               Every folder of src/ is a subpath export (edge402/protocol,
//                               edge402/client, edge402/worker; a new folder such as x402 only
//                               needs its line in package.json `exports`).
//   dist/protocol/secp/secp256k1.wasm   the verifier module, beside the loaders that read it.
//   dist/package.json           the package scope of dist/: `"type": "module"` and the
//                               `#secp256k1-wasm` imports map of the root package.json with its
//                               targets moved from ./src/**.ts to ./**.js. Node, esbuild, wrangler
//                               and Vite resolve a `#` import through the nearest package.json, so
//                               the built files pick the built loaders (workerd, browser, node)
//                               while the sources in this repo keep resolving to src/.
//   dist/cli.js                 the `edge402` command (bin/edge402.js runs it): src/client/cli.ts
//                               and everything it imports in one esbuild bundle, so it starts
//                               without loading hundreds of modules; only `#secp256k1-wasm` stays
//                               outside, resolved through dist/package.json at run time.
import { execFileSync } from "node:child_process";
import { copyFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const DIST = join(ROOT, "dist");
const WASM_IMPORT = "#secp256k1-wasm";

type Conditions = Record<string, string>;

/** The root package.json's `#secp256k1-wasm` targets (./src/x.ts), as dist-relative paths (./x.js). */
export function distImports(rootImports: Record<string, Conditions>): Record<string, Conditions> {
  const out: Record<string, Conditions> = {};
  for (const [name, conditions] of Object.entries(rootImports)) {
    out[name] = Object.fromEntries(
      Object.entries(conditions).map(([condition, target]) => {
        if (!/^\.\/src\/.+\.ts$/.test(target))
          throw new Error(`package.json imports ${name} ${condition}: expected ./src/**.ts, got ${target}`);
        return [condition, target.replace(/^\.\/src\//, "./").replace(/\.ts$/, ".js")];
      }),
    );
  }
  return out;
}

function emitLibrary(): void {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-p", join(ROOT, "tsconfig.build.json"), "--noCheck"], {
    cwd: ROOT,
    stdio: "inherit",
  });
}

async function bundleCli(): Promise<void> {
  await build({
    entryPoints: [join(ROOT, "src/client/cli.ts")],
    outfile: join(DIST, "cli.js"),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    minify: true,
    legalComments: "none",
    external: [WASM_IMPORT],
    // commander is CommonJS: its require() of Node built-ins needs a real require in an ESM bundle.
    banner: {
      js: 'import { createRequire as __edge402Require } from "node:module"; const require = __edge402Require(import.meta.url);',
    },
    logLevel: "warning",
  });
}

export async function buildPackage(): Promise<void> {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { imports: Record<string, Conditions> };
  rmSync(DIST, { recursive: true, force: true });
  emitLibrary();
  copyFileSync(join(ROOT, "src/protocol/secp/secp256k1.wasm"), join(DIST, "protocol/secp/secp256k1.wasm"));
  writeFileSync(
    join(DIST, "package.json"),
    `${JSON.stringify({ type: "module", imports: distImports(pkg.imports) }, null, 2)}\n`,
  );
  await bundleCli();
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  await buildPackage();
  console.log(`built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

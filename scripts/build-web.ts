// scripts/build-web.ts owns `npm run build:web`: it bundles the browser code of src/web/ (the
// paying 402 page and the wallet page) with esbuild into one minified script, names it by its
// content hash, and writes it as a string into src/worker/http/paywall-asset.ts, the module the
// Worker serves it from (GET /api/1/assets/<name>, cached for a year). Being a plain module,
// it reaches every way the Worker runs (wrangler dev, the vitest pool, dist/ and a project that
// installs the package) with no build step of its own; the file is committed, and
// test/unit/web-asset.test.ts fails when it is stale.
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const WEB_ASSET_MODULE = "src/worker/http/paywall-asset.ts";

/** The page script, bundled and minified, with its content-hashed file name. */
export async function buildWebAsset(): Promise<{ name: string; body: string }> {
  const out = await build({
    entryPoints: [join(ROOT, "src/web/main.ts")],
    bundle: true,
    write: false,
    format: "iife",
    platform: "browser",
    target: "es2020",
    minify: true,
    legalComments: "none",
    charset: "utf8",
    logLevel: "warning",
  });
  const body = out.outputFiles[0]!.text;
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 12);
  return { name: `paywall.${hash}.js`, body };
}

/** The source of the generated module that carries `asset`. */
export function renderWebAssetModule(asset: { name: string; body: string }): string {
  return `// GENERATED FILE, do not edit: written by scripts/build-web.ts (npm run build:web) from src/web/.
// The paying 402 page's script, bundled and minified, under its content-hashed name (a new
// build gets a new name, so browsers may cache it forever).
export const PAYWALL_SCRIPT = {
  name: ${JSON.stringify(asset.name)},
  body: ${JSON.stringify(asset.body)},
} as const;
`;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const asset = await buildWebAsset();
  writeFileSync(join(ROOT, WEB_ASSET_MODULE), renderWebAssetModule(asset));
  console.log(`wrote ${WEB_ASSET_MODULE}: ${asset.name}, ${asset.body.length} bytes`);
}

// scripts/build-web.ts owns `npm run build:web`: it bundles each browser script of src/web/ (the
// paying 402 page with the wallet page, and the operator's dashboard) with esbuild into one
// minified script, names it by its content hash, and writes it as a string into a module under
// src/worker/http/, which the Worker serves it from (cached for a year). Being a plain module,
// it reaches every way the Worker runs (wrangler dev, the vitest pool, dist/ and a project that
// installs the package) with no build step of its own; the files are committed, and
// test/unit/web-asset.test.ts fails when one is stale.
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** One browser script: its entry, the generated module, the constant it exports, its name's prefix. */
export type WebAssetSpec = { entry: string; module: string; constant: string; prefix: string; about: string };

export const WEB_ASSETS: readonly WebAssetSpec[] = [
  {
    entry: "src/web/main.ts",
    module: "src/worker/http/paywall-asset.ts",
    constant: "PAYWALL_SCRIPT",
    prefix: "paywall",
    about: "The paying 402 page's script",
  },
  {
    entry: "src/web/dashboard/main.ts",
    module: "src/worker/http/dashboard-asset.ts",
    constant: "DASHBOARD_SCRIPT",
    prefix: "dashboard",
    about: "The operator dashboard's script",
  },
];

/** The script of `spec`, bundled and minified, with its content-hashed file name. */
export async function buildWebAsset(spec: WebAssetSpec): Promise<{ name: string; body: string }> {
  const out = await build({
    entryPoints: [join(ROOT, spec.entry)],
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
  return { name: `${spec.prefix}.${hash}.js`, body };
}

/** The source of the generated module that carries `asset`. */
export function renderWebAssetModule(spec: WebAssetSpec, asset: { name: string; body: string }): string {
  return `// GENERATED FILE, do not edit: written by scripts/build-web.ts (npm run build:web) from src/web/.
// ${spec.about}, bundled and minified, under its content-hashed name (a new
// build gets a new name, so browsers may cache it forever).
export const ${spec.constant} = {
  name: ${JSON.stringify(asset.name)},
  body: ${JSON.stringify(asset.body)},
} as const;
`;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const spec of WEB_ASSETS) {
    const asset = await buildWebAsset(spec);
    writeFileSync(join(ROOT, spec.module), renderWebAssetModule(spec, asset));
    console.log(`wrote ${spec.module}: ${asset.name}, ${asset.body.length} bytes`);
  }
}

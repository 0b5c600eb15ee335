// Vitest global setup for the e2e tests: builds the package (scripts/build.ts: dist/, the CLI
// bundle that bin/edge402.js runs) from the current sources, so no test runs a stale build,
// and packs it with `npm pack` into a temp dir; the tarball's path reaches the tests through
// `provide` (test/e2e/package.e2e.test.ts and consumer.e2e.test.ts install it like a user).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { buildPackage } from "../../scripts/build.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The `npm pack` tarball of this checkout, built from the current sources. */
    packageTarball: string;
  }
}

export default async function setup(project: TestProject) {
  await buildPackage();
  const dir = mkdtempSync(join(tmpdir(), "edge402-pack-"));
  const out = execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], {
    encoding: "utf8",
  });
  const [packed] = JSON.parse(out) as Array<{ filename: string }>;
  if (!packed) throw new Error(`npm pack printed no tarball: ${out}`);
  project.provide("packageTarball", join(dir, packed.filename));
  return () => rmSync(dir, { recursive: true, force: true });
}

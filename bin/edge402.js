#!/usr/bin/env node
// Launcher of the `edge402` command: runs the built CLI (dist/cli.js, one esbuild bundle of
// src/client/cli.ts made by `npm run build`), so it starts without a TypeScript loader. The
// exit code is the CLI's.
let cli;
try {
  cli = await import("../dist/cli.js");
} catch (err) {
  if (err?.code !== "ERR_MODULE_NOT_FOUND" || !String(err.message).includes("dist/cli.js")) throw err;
  process.stderr.write("edge402: dist/cli.js is missing: run `npm run build` in the edge402 checkout\n");
  process.exit(1);
}
process.exitCode = await cli.main(process.argv);

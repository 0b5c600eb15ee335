#!/usr/bin/env node
// Launcher of the `edge402` command: registers tsx's ESM loader in this process and runs the
// TypeScript CLI (src/client/cli.ts) without a build step, so `npx edge402` works in the repo.
// The exit code is the CLI's.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/client/cli.ts");
process.exitCode = await main(process.argv);

// Refuses to go on when this Node is older than package.json's engines.node (">=MAJOR.MINOR"),
// with one line naming the command that fixes it, instead of a stack trace from deep inside
// wrangler or vitest. Plain JavaScript that any Node runs. `--quiet` only sets the exit code.
import { readFileSync } from "node:fs";

const { engines } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const want = /^>=\s*(\d+)\.(\d+)/.exec(engines.node);
const [major, minor] = process.versions.node.split(".").map(Number);
if (want && (major < Number(want[1]) || (major === Number(want[1]) && minor < Number(want[2])))) {
  if (!process.argv.includes("--quiet")) {
    console.error(
      `edge402 needs Node ${engines.node} (this is ${process.version}): run \`. scripts/use-node.sh\` (installs Node 22 under .tools/, first on PATH for this shell), then retry`,
    );
  }
  process.exit(1);
}

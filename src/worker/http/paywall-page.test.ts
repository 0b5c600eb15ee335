// The 402 page's copy-paste command, run through a real POSIX shell: a hostile URL (command
// substitutions, quotes, separators) reaches the command as one literal argument and runs
// nothing else.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { paywallPage } from "./paywall-page.js";

const dir = mkdtempSync(join(tmpdir(), "edge402-page-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const unescapeHtml = (s: string) =>
  s.replace(/&(lt|gt|quot|#39|amp);/g, (_m, e: string) => ({ lt: "<", gt: ">", quot: '"', "#39": "'", amp: "&" })[e]!);

/** The command the page shows, as a user would copy it. */
function copiedCommand(url: string): string {
  const html = paywallPage({ code: "payment_required", message: "Pay.", url, terms: {} });
  const m = /<code>(npx edge402 fetch [^<]*)<\/code>/.exec(html);
  expect(m, "the page offers the command").not.toBeNull();
  return unescapeHtml(m![1]!);
}

describe("the 402 page's shell command", () => {
  const hostile = [
    "http://paywall.test/echofix/$(touch${IFS}pwned-1)",
    "http://paywall.test/echofix/`touch pwned-2`",
    "http://paywall.test/echofix/x';touch pwned-3;'",
    "http://paywall.test/echofix/x'\"$(touch pwned-4)\"'",
    "http://paywall.test/a?b=1&touch pwned-5&c=$HOME|touch pwned-6",
    "http://paywall.test/'''",
  ];
  it.each(hostile)("passes %s as one literal argument", (url) => {
    const command = copiedCommand(url);
    expect(command.startsWith("npx edge402 fetch ")).toBe(true);
    // Run what was copied with `npx edge402 fetch` swapped for a command that prints its arguments.
    const out = execFileSync("sh", ["-c", command.replace(/^npx edge402 fetch /, "printf '%s\\n' ")], { cwd: dir, encoding: "utf8" });
    expect(out).toBe(`${url}\n`);
    expect(readdirSync(dir)).toEqual([]);
  });
});

// The package as someone else's project uses it, following README.md's "Add edge402 to your
// Worker": a fresh Hono Worker project in a temp dir, made of the files that section shows
// (src/index.ts, wrangler.jsonc, taken from the README itself) plus what a Hono template has,
// installs the `npm pack` tarball of this checkout (test/helpers/package-global-setup.ts) and
// hono with npm; edge402's dependencies come from npm's cache, which `npm ci` of this repo
// filled (--prefer-offline), so the install takes seconds and asks the registry only for what
// the cache lacks. Nothing imports this repo's sources: wrangler (run with this repo's copy, the
// same version a user installs) bundles the project from its own node_modules. Then:
// plain Node imports the built package and verifies a proof with the WASM; esbuild bundles the
// built client for browsers and picks the browser loader; the project type-checks against its
// own generated Env; it runs under `wrangler dev` against anvil (scripts/stack.ts with
// projectDir), answering its own route, the priced route and the management API; the CLI from
// the same tarball funds a fresh key with its faucet and pays; two CLI processes sharing one
// state directory pay on one channel; the cron's sync brings the channel into D1; and
// `wrangler deploy --dry-run --minify` bundles it (its size is printed).
import { spawn } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { createPublicClient, http, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startStack, type Stack } from "../../scripts/stack.js";
import { microTransferChannelsAbi } from "../../src/protocol/abi.js";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const WRANGLER = join(REPO, "node_modules/.bin/wrangler");
const TSC = join(REPO, "node_modules/typescript/bin/tsc");
const PRICE = 10n;

type Run = { code: number; stdout: string; stderr: string };

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, NO_COLOR: "1", WRANGLER_SEND_METRICS: "false", CI: "true", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.once("error", reject);
    child.once("close", (code) => resolveRun({ code: code ?? -1, stdout, stderr }));
  });
}

/** The files README.md's "Add edge402 to your Worker" shows, by path (`<!-- consumer-file: path -->` before each block). */
async function readmeFiles(): Promise<Record<string, string>> {
  const readme = await readFile(join(REPO, "README.md"), "utf8");
  const files: Record<string, string> = {};
  for (const m of readme.matchAll(/<!-- consumer-file: (\S+) -->\n```\w*\n([\s\S]*?)\n```/g))
    files[m[1]!] = `${m[2]}\n`;
  return files;
}

let proj: string;
let stack: Stack;
const homes: string[] = [];

/** Runs the `edge402` command the project got from the tarball. */
async function edge402(key: Hex, ...args: string[]): Promise<Run> {
  const home = await mkdtemp(join(tmpdir(), "edge402-consumer-home-"));
  homes.push(home);
  return cli(key, home, ...args);
}

function cli(key: Hex, home: string, ...args: string[]): Promise<Run> {
  return run(join(proj, "node_modules/.bin/edge402"), args, proj, {
    EDGE402_PRIVATE_KEY: key,
    EDGE402_RPC_URL: stack.rpcUrl,
    EDGE402_HOME: home,
  });
}

async function channelsCreated(sender: Address): Promise<number[]> {
  const pub = createPublicClient({ transport: http(stack.rpcUrl) });
  const logs = await pub.getContractEvents({
    address: stack.contract,
    abi: microTransferChannelsAbi,
    eventName: "ChannelCreated",
    args: { sender },
    fromBlock: 0n,
  });
  return logs.map((l) => Number(l.args.openBlock));
}

beforeAll(async () => {
  const tarball = inject("packageTarball");
  const ours = JSON.parse(await readFile(join(REPO, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
  };
  proj = await mkdtemp(join(tmpdir(), "edge402-consumer-"));
  const files: Record<string, string> = {
    ...(await readmeFiles()),
    "package.json": JSON.stringify(
      {
        name: "my-paid-api",
        private: true,
        type: "module",
        dependencies: { edge402: `file:${tarball}`, hono: ours.dependencies.hono },
      },
      null,
      2,
    ),
    // What the Hono cloudflare-workers template has, made strict about libraries' types too.
    "tsconfig.json": JSON.stringify({
      compilerOptions: {
        target: "ESNext",
        module: "ESNext",
        moduleResolution: "Bundler",
        strict: true,
        skipLibCheck: false,
        lib: ["ESNext"],
        types: [],
      },
      include: ["src", "worker-configuration.d.ts"],
    }),
    // The project's generated Env (wrangler types) must satisfy edge402's.
    "src/env-check.ts":
      'import type { Env as Edge402Env } from "edge402/worker";\nexport const asEdge402Env = (env: Env): Edge402Env => env;\n',
  };
  expect(Object.keys(files)).toEqual(expect.arrayContaining(["src/index.ts", "wrangler.jsonc"]));
  for (const [path, text] of Object.entries(files)) {
    await run("mkdir", ["-p", dirname(join(proj, path))], proj);
    await writeFile(join(proj, path), text);
  }
  const install = await run(
    "npm",
    ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"],
    proj,
  );
  expect(install, install.stderr).toMatchObject({ code: 0 });
  // No demo routes and no proxied origin: the project's own routes only.
  stack = await startStack({
    projectDir: proj,
    env: { DEMO_ROUTES: "false", PROXY_ROUTES: "", ORIGIN_URL: "" },
    scheduledEveryMs: 2_000,
  });
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  for (const dir of [proj, ...homes]) if (dir) await rm(dir, { recursive: true, force: true });
});

describe("a Worker project that installs the packed package", () => {
  it("got only what a user needs: dist with the WASM, the D1 migrations, the bin, README, LICENSE, CHANGELOG", async () => {
    const root = join(proj, "node_modules/edge402");
    expect((await readdir(root)).sort()).toEqual([
      "CHANGELOG.md",
      "LICENSE",
      "README.md",
      "bin",
      "dist",
      "migrations",
      "package.json",
    ]);
    // Every SQL migration of the repo, and nothing else (no drizzle-kit meta/).
    const sql = (await readdir(join(REPO, "migrations"))).filter((f) => f.endsWith(".sql"));
    expect(sql.length).toBeGreaterThanOrEqual(3);
    expect(await readdir(join(root, "migrations"))).toEqual(sql);
    expect(await readdir(join(root, "dist/protocol/secp"))).toContain("secp256k1.wasm");
    const all = (await readdir(root, { recursive: true })).map(String);
    expect(
      all.filter((f) => /\.test\.|(^|\/)(test|bench|src)\//.test(f) || (f.endsWith(".ts") && !f.endsWith(".d.ts"))),
    ).toEqual([]);
  });

  it("has the packaged CLI: --version from package.json, --help with examples, variables and exit codes", async () => {
    const { version } = JSON.parse(await readFile(join(REPO, "package.json"), "utf8")) as { version: string };
    const v = await run(join(proj, "node_modules/.bin/edge402"), ["--version"], proj);
    expect(v).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
    const help = await run(join(proj, "node_modules/.bin/edge402"), ["--help"], proj);
    expect(help.code).toBe(0);
    for (const text of [
      "Examples:",
      "edge402 faucet http://127.0.0.1:8787",
      "Environment:",
      "EDGE402_PRIVATE_KEY",
      "EDGE402_RPC_URL",
      "EDGE402_HOME",
      "Exit codes:",
      "faucet [options] [server-url]",
    ]) {
      expect(help.stdout).toContain(text);
    }
  });

  it("imports the built package in plain Node and verifies a balance proof with the WASM", async () => {
    const script = `
      import { signBalanceProof, verifyBalanceProof, recoverBalanceProofSigner } from "edge402/protocol";
      import { createEdge402Client } from "edge402/client";
      import { privateKeyToAccount } from "viem/accounts";
      const account = privateKeyToAccount("${generatePrivateKey()}");
      const p = { chainId: 31337, contract: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", receiver: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", openBlock: 7, balance: 42n };
      const signature = await signBalanceProof(account, p);
      console.log(JSON.stringify({
        signer: await recoverBalanceProofSigner({ ...p, signature }),
        valid: await verifyBalanceProof({ ...p, signature, sender: account.address }),
        wrongBalance: await verifyBalanceProof({ ...p, balance: 43n, signature, sender: account.address }),
        address: account.address,
        client: typeof createEdge402Client,
      }));`;
    const r = await run(process.execPath, ["--input-type=module", "-e", script], proj);
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toEqual({
      signer: out.address,
      valid: true,
      wrongBalance: false,
      address: out.address,
      client: "function",
    });
  });

  it("bundles the built client for browsers with the browser loader of the WASM", async () => {
    const entry = join(proj, "browser-entry.js");
    await writeFile(entry, 'export { createEdge402Client, MemoryChannelStore } from "edge402/client";\n');
    const result = await build({
      absWorkingDir: proj,
      entryPoints: [entry],
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      metafile: true,
      outdir: join(proj, "out"),
      logLevel: "silent",
      // FileChannelStore (Node only) imports node: modules lazily; a browser bundle leaves them out.
      external: ["node:*"],
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain("node_modules/edge402/dist/protocol/secp/load-browser.js");
    expect(inputs.filter((i) => /load-(node|workerd)\.js$/.test(i))).toEqual([]);
    expect(result.outputFiles[0]!.text).toContain('new URL("./secp256k1.wasm", import.meta.url)');
  });

  it("type-checks with its own generated Env (wrangler types) against edge402's types", async () => {
    const types = await run(WRANGLER, ["types"], proj);
    expect(types, types.stderr).toMatchObject({ code: 0 });
    const tsc = await run(process.execPath, [TSC, "--noEmit", "-p", proj], proj);
    // Only errors in the project or in edge402 count; a dependency's own DOM-only types (ox's WebAuthn) do not.
    const ours = tsc.stdout.split("\n").filter((l) => /^(src\/|node_modules\/edge402\/)/.test(l));
    expect(ours).toEqual([]);
  });

  it("runs under wrangler dev: its own route, the priced route and the management API", async () => {
    const home = await fetch(`${stack.url}/`);
    expect(await home.text()).toBe("Hello Hono!");
    const unpaid = await fetch(`${stack.url}/premium/you`);
    expect(unpaid.status).toBe(402);
    expect(unpaid.headers.get("RDN-Price")).toBe(String(PRICE));
    await unpaid.arrayBuffer();
    const stats = (await (await fetch(`${stack.url}/api/1/stats`)).json()) as Record<string, unknown>;
    expect(stats).toMatchObject({
      receiver: stack.receiver,
      contract: stack.contract,
      token: stack.token,
      chainId: stack.chainId,
    });
  });

  it("serves browsers the paying 402 page and its script from the installed package", async () => {
    const page = await fetch(`${stack.url}/premium/you`, { headers: { Accept: "text/html" } });
    expect(page.status).toBe(402);
    const html = await page.text();
    expect(html).toContain('id="edge402-pay"');
    const src = /<script src="(\/api\/1\/assets\/paywall\.[0-9a-f]{12}\.js)"/.exec(html)?.[1];
    expect(src).toBeDefined();
    const script = await fetch(`${stack.url}${src}`);
    expect(script.status).toBe(200);
    expect(script.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect((await script.text()).length).toBeGreaterThan(10_000);
  });

  it("is paid by the CLI from the same tarball after its faucet funds a fresh key", async () => {
    const key = generatePrivateKey();
    const faucet = await edge402(key, "faucet", stack.url);
    expect(faucet.stderr).toBe("");
    expect(faucet).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(
        /^minted 1000000 of token 0x[0-9a-fA-F]{40} to 0x[0-9a-fA-F]{40} .*; balance 1000000 \(tx 0x[0-9a-f]{64}\)\n$/,
      ),
    });
    const paid = await edge402(key, "fetch", `${stack.url}/premium/you`);
    expect(paid, paid.stderr).toMatchObject({ code: 0, stdout: '{"hello":"you"}' });
    expect(paid.stderr).toContain(`paid ${PRICE} (balance proof)`);
  });

  it("refuses to mint a token that has no public mint, naming it", async () => {
    const r = await edge402(generatePrivateKey(), "faucet", "--token", stack.contract);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `the token ${stack.contract} on chain ${stack.chainId} has no public mint(address,uint256)`,
    );
  });

  it("lets two CLI processes sharing one state directory pay on one channel, losing nothing", async () => {
    const key = generatePrivateKey();
    const sender = privateKeyToAccount(key).address;
    expect((await edge402(key, "faucet", stack.url)).code).toBe(0);
    const home = await mkdtemp(join(tmpdir(), "edge402-consumer-home-"));
    homes.push(home);
    const both = await Promise.all([
      cli(key, home, "fetch", `${stack.url}/premium/a`),
      cli(key, home, "fetch", `${stack.url}/premium/b`),
    ]);
    expect(both.map((r) => [r.code, r.stdout])).toEqual([
      [0, '{"hello":"a"}'],
      [0, '{"hello":"b"}'],
    ]);
    const opened = await channelsCreated(sender);
    expect(opened).toHaveLength(1);
    const listed = await cli(key, home, "channels", "--json");
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ openBlock: opened[0], balance: String(2n * PRICE) }),
    ]);
  });

  it("follows the chain on the cron: the channel reaches D1 and the admin API", { timeout: 60_000 }, async () => {
    const key = generatePrivateKey();
    const sender = privateKeyToAccount(key).address;
    expect((await edge402(key, "faucet", stack.url)).code).toBe(0);
    expect((await edge402(key, "fetch", `${stack.url}/premium/sync`)).code).toBe(0);
    const admin = { authorization: `Bearer ${stack.adminToken}` };
    let listed: { channels: Array<{ sender: string; deposit: string }> } = { channels: [] };
    let sync: { sync: { eventsApplied: number } | null } = { sync: null };
    for (let i = 0; i < 100; i++) {
      sync = (await (await fetch(`${stack.url}/api/1/admin/sync`, { headers: admin })).json()) as typeof sync;
      listed = (await (
        await fetch(`${stack.url}/api/1/admin/channels?sender=${sender}`, { headers: admin })
      ).json()) as typeof listed;
      if (listed.channels.length > 0 && (sync.sync?.eventsApplied ?? 0) > 0) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(sync.sync?.eventsApplied).toBeGreaterThan(0);
    expect(listed.channels).toEqual([expect.objectContaining({ sender: sender.toLowerCase() })]);
  });

  it("bundles for deployment: wrangler deploy --dry-run --minify", async () => {
    const r = await run(WRANGLER, ["deploy", "--dry-run", "--minify", "--outdir", join(proj, "dist-deploy")], proj);
    expect(r, r.stderr).toMatchObject({ code: 0 });
    const size = /Total Upload: ([\d.]+ KiB) \/ gzip: ([\d.]+ KiB)/.exec(r.stdout);
    expect(size).not.toBeNull();
    console.log(`consumer Worker bundle: ${size![1]}, gzip ${size![2]}`);
  });
});

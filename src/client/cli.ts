// The `edge402` command: the SDK from a shell, for people and scripts alike, so its output is
// predictable: the body on stdout, payments and progress on stderr, listings with --json, and an
// exit code that tells a refused payment (2) from a failure (1). HELP_FOOTER below is the
// reference for commands, variables and exit codes.
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import type { Address, Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { parseAmount as readUint } from "../protocol/amount.js";
import { createEdge402Client, type Edge402Client } from "./client.js";
import type { ChannelSummary, CloseResult, SettleResult, TopUpResult } from "./channels.js";
import { ClientErrorCodes, Edge402Error, isEdge402Error } from "./errors.js";
import { parseAddress } from "../protocol/codec.js";
import { DEFAULT_FAUCET_AMOUNT, mintTestTokens, type FaucetResult } from "./faucet.js";
import { FileChannelStore } from "./file-store.js";
import type { Hooks, PaymentReceipt, ProgressEvent } from "./hooks.js";
import { fetchServerInfo, gatewayOf } from "./server-info.js";
import packageJson from "../../package.json" with { type: "json" };

/** Where the CLI writes; replaced in tests. */
export type CliIo = {
  stdout: (chunk: string | Uint8Array) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  stdin?: () => Promise<Buffer>;
  /** stdout and stderr are the same terminal. */
  terminal?: boolean;
};

const EXIT_FAILURE = 1;
const EXIT_REFUSED = 2;

function parseAmount(value: string): bigint {
  if (readUint(value) === null)
    throw new InvalidArgumentError("expected an amount in token base units (an unsigned decimal integer)");
  return BigInt(value);
}

function parseAddresses(value: string, previous: string[] = []): string[] {
  const list = value
    .split(",")
    .map((a) => a.trim())
    .filter((a) => a !== "");
  for (const a of list) if (!/^0x[0-9a-fA-F]{40}$/.test(a)) throw new InvalidArgumentError(`not an address: ${a}`);
  return [...previous, ...list];
}

function parsePositiveInt(value: string): number {
  if (!/^[1-9][0-9]{0,8}$/.test(value)) throw new InvalidArgumentError("expected a positive integer");
  return Number(value);
}

function parseOpenBlockArg(value: string): number {
  if (readUint(value, 32) === null) throw new InvalidArgumentError("expected an open block number");
  return Number(value);
}

function parseHeader(value: string, previous: string[] = []): string[] {
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+:/.test(value)) throw new InvalidArgumentError('expected "Name: value"');
  return [...previous, value];
}

function short(address: string): string {
  return `${address.slice(0, 6)}…${address.slice(-4)}`;
}

function describeProgress(e: ProgressEvent): string {
  switch (e.type) {
    case "transaction":
      return `${e.action}: transaction ${e.hash} sent`;
    case "confirming":
      return `${e.action}: waiting for ${e.confirmations} confirmation${e.confirmations === 1 ? "" : "s"}…`;
    case "confirmed":
      return `${e.action}: confirmed in block ${e.blockNumber}`;
    case "scan":
      return `looking for channels to ${short(e.receiver)} in blocks ${e.fromBlock}-${e.toBlock}`;
    case "retry":
      return `server said ${e.code}; retrying in ${e.delayMs} ms (attempt ${e.attempt})`;
    case "close":
      return e.mode === "cooperative"
        ? `channel ${e.openBlock}: closing cooperatively`
        : `channel ${e.openBlock}: closing uncooperatively (${e.reason ?? "requested"})`;
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `${rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")}\n`;
}

function channelsTable(list: ChannelSummary[]): string {
  if (list.length === 0) return "no channels\n";
  return table([
    ["OPEN BLOCK", "STATE", "RECEIVER", "DEPOSIT", "BALANCE", "AVAILABLE", "CREDIT", "SERVER"],
    ...list.map((c) => [
      String(c.openBlock),
      c.state + (c.settleBlock !== undefined && c.state === "closing" ? ` (settle after ${c.settleBlock})` : ""),
      c.receiver,
      c.deposit,
      c.balance,
      c.available,
      c.credit,
      c.gateways.map((g) => new URL(g).origin).join(",") || "-",
    ]),
  ]);
}

function closeLine(r: CloseResult): string {
  if (r.mode === "cooperative")
    return `channel ${r.openBlock}: closed cooperatively at ${r.balance}; refund ${r.refund} (tx ${r.hash})\n`;
  if (r.mode === "uncooperative") {
    return `channel ${r.openBlock}: close requested at ${r.balance}; run "edge402 settle" after block ${r.settleBlock} (tx ${r.hash})\n  reason: ${r.reason}\n`;
  }
  return `channel ${r.openBlock}: ${r.state}: ${r.reason ?? ""}\n`;
}

function settleLine(r: SettleResult): string {
  if (r.hash) return `channel ${r.openBlock}: settled; refund ${r.refund} (tx ${r.hash})\n`;
  if (r.blocksLeft !== undefined)
    return `channel ${r.openBlock}: challenge period runs until block ${r.settleBlock} (${r.blocksLeft} more block${r.blocksLeft === 1 ? "" : "s"})\n`;
  return `channel ${r.openBlock}: ${r.state}${r.note ? `: ${r.note}` : ""}\n`;
}

function topUpLine(r: TopUpResult): string {
  return r.opened
    ? `opened channel ${r.openBlock} to ${r.receiver} with ${r.added} (tx ${r.hash})\n`
    : `channel ${r.openBlock}: added ${r.added}; deposit ${r.deposit} (tx ${r.hash})\n`;
}

function faucetLine(r: FaucetResult): string {
  const gas = r.gasGranted > 0n ? ` (after granting ${r.gasGranted} wei of gas money)` : "";
  return `minted ${r.amount} of token ${r.token} to ${r.to}${gas}; balance ${r.balance} (tx ${r.hash})\n`;
}

function parseAddressArg(value: string): Address {
  try {
    return parseAddress(value, "address");
  } catch {
    throw new InvalidArgumentError("expected a 0x-prefixed 20-byte address");
  }
}

/** What `edge402 --help` prints after the commands. */
const HELP_FOOTER = `
Examples:
  # mint test tokens to the key's account on a local chain (npm start prints these lines)
  edge402 faucet http://127.0.0.1:8787
  # a paid request: the body to stdout, what was paid to stderr
  edge402 fetch http://127.0.0.1:8787/echofix/hello
  edge402 fetch -X POST -H "content-type: application/json" -d @body.json https://api.example/paid
  edge402 fetch --max-spend 100 https://api.example/paid  # refuse to pay more than 100
  edge402 --max-total 10000 --max-deposit 50000 fetch https://api.example/paid
  edge402 channels --json
  edge402 topup https://api.example 5000
  edge402 close https://api.example                       # cooperative, else uncooperative
  edge402 settle                                          # after an uncooperative close's challenge period
  edge402 <command> --help                                # a command's options

Environment:
  EDGE402_PRIVATE_KEY        the payer's private key, 0x + 64 hex digits (required by every command)
  EDGE402_RPC_URL            the chain's JSON-RPC URL (or --rpc-url; required by every command)
  EDGE402_HOME               the state directory: channels, budgets, locks (default ~/.edge402; or --home)
  EDGE402_MAX_TOTAL          --max-total: the most this state directory signs away
  EDGE402_MAX_DEPOSIT        --max-deposit: the most this state directory deposits
  EDGE402_TRUSTED_CONTRACTS  --trust-contract: channel contracts to use whatever their code (comma-separated)

Exit codes:
  0  success
  1  failure: bad arguments or settings, an HTTP status of 400 or more, an unreachable
     server or chain, a faucet that cannot mint
  2  a payment refused (by the budgets, a trust check or the server); the error code is printed
`;

/** The options every command takes. */
type Globals = {
  rpcUrl?: string;
  home?: string;
  confirmations: number;
  quiet?: boolean;
  maxTotal?: bigint;
  maxDeposit?: bigint;
  trustContract?: string[];
};

/** The program with its global options; its commands are added by the `add…Command` functions. */
function createProgram(io: CliIo): Command {
  return new Command("edge402")
    .description("Pay for HTTP requests through edge402 payment channels.")
    .version(packageJson.version)
    .addHelpText("after", HELP_FOOTER)
    .addOption(new Option("--rpc-url <url>", "JSON-RPC URL of the chain").env("EDGE402_RPC_URL"))
    .addOption(new Option("--home <dir>", "state directory").env("EDGE402_HOME"))
    .addOption(
      new Option("--confirmations <n>", "confirmations to wait for after a transaction")
        .argParser(parsePositiveInt)
        .default(1),
    )
    .addOption(
      new Option("--max-total <amount>", "the most this state directory signs away in total (base units)")
        .env("EDGE402_MAX_TOTAL")
        .argParser(parseAmount),
    )
    .addOption(
      new Option(
        "--max-deposit <amount>",
        "the most this state directory deposits in total, opens and top-ups (base units)",
      )
        .env("EDGE402_MAX_DEPOSIT")
        .argParser(parseAmount),
    )
    .addOption(
      new Option(
        "--trust-contract <address>",
        "use this channel contract whatever its code (repeatable; env: comma-separated)",
      )
        .env("EDGE402_TRUSTED_CONTRACTS")
        .argParser(parseAddresses),
    )
    .option("-q, --quiet", "no progress on stderr")
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
}

/** One run of the CLI: where it writes, its global options, the exit code so far, and the client they make. */
class CliRun {
  exitCode = 0;

  constructor(
    readonly io: CliIo,
    readonly program: Command,
  ) {}

  get globals(): Globals {
    return this.program.opts<Globals>();
  }

  say(text: string): void {
    this.io.stderr(`edge402: ${text}\n`);
  }

  /** `value` as JSON on stdout with `--json`, else the `text` made of it. */
  print<T>(asJson: boolean | undefined, value: T, text: (value: T) => string): void {
    this.io.stdout(asJson ? `${JSON.stringify(value, null, 2)}\n` : text(value));
  }

  /** The payer's key and the chain, from the environment or the global options. */
  credentials(): { key: Hex; rpcUrl: string } {
    const key = this.io.env.EDGE402_PRIVATE_KEY;
    if (!key || !/^0x[0-9a-fA-F]{64}$/.test(key))
      throw new UsageError("set EDGE402_PRIVATE_KEY to the payer's private key (0x + 64 hex digits)");
    const { rpcUrl } = this.globals;
    if (!rpcUrl) throw new UsageError("set EDGE402_RPC_URL (or --rpc-url) to the chain's JSON-RPC URL");
    return { key: key as Hex, rpcUrl };
  }

  /** The SDK client of the global options over the state directory's store, with `extra` on top. */
  client(extra: Parameters<typeof createEdge402Client>[0] = {}): Edge402Client {
    const g = this.globals;
    const { key } = this.credentials();
    const home = resolve(g.home ?? join(this.io.env.HOME ?? homedir(), ".edge402"));
    return createEdge402Client({
      account: privateKeyToAccount(key),
      rpcUrl: g.rpcUrl,
      store: new FileChannelStore(home),
      confirmations: g.confirmations,
      pollingInterval: 500,
      onProgress: g.quiet ? undefined : (e) => this.say(describeProgress(e)),
      ...(g.trustContract ? { trustedContracts: g.trustContract } : {}),
      ...(g.maxDeposit !== undefined ? { maxDeposit: g.maxDeposit } : {}),
      ...extra,
      maxSpend: { ...(g.maxTotal !== undefined ? { total: g.maxTotal } : {}), ...extra.maxSpend },
    });
  }
}

type FetchOptions = {
  request?: string;
  header: string[];
  data?: string;
  maxSpend?: bigint;
  depositMultiple?: number;
  minDeposit?: bigint;
  include?: boolean;
  json?: boolean;
};

/** What `fetch` sends: the URL, and curl's -X, -H and -d (`@file`, `@-` for stdin). */
async function fetchRequest(url: string, opts: FetchOptions, io: CliIo): Promise<{ target: URL; init: RequestInit }> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new UsageError(`not a URL: ${url}`);
  }
  const headers = new Headers();
  for (const h of opts.header) {
    const i = h.indexOf(":");
    headers.append(h.slice(0, i).trim(), h.slice(i + 1).trim());
  }
  let body: Uint8Array | string | undefined;
  if (opts.data !== undefined) {
    if (opts.data === "@-") body = io.stdin ? await io.stdin() : undefined;
    else if (opts.data.startsWith("@")) body = await readFile(opts.data.slice(1));
    else body = opts.data;
    if (!headers.has("content-type")) headers.set("content-type", "application/x-www-form-urlencoded");
  }
  const method = (opts.request ?? (body !== undefined ? "POST" : "GET")).toUpperCase();
  return { target, init: { method, headers, ...(body !== undefined ? { body: body as BodyInit } : {}) } };
}

/**
 * `--max-spend` caps one command: each price, and what it signs in all (a redirect to another
 * priced route pays again). The store's own total is `--max-total`.
 */
function commandCap(cap: bigint | undefined): NonNullable<Hooks["beforePay"]> {
  let signedHere = 0n;
  return (ctx) => {
    const amount = ctx.kind === "proof" ? ctx.amount : ctx.price;
    if (cap !== undefined && signedHere + amount > cap) {
      throw new Edge402Error(
        ClientErrorCodes.budgetExceeded,
        `Paying ${amount} more would bring this command to ${signedHere + amount}, over --max-spend ${cap}; nothing was paid.`,
      );
    }
    signedHere += amount;
  };
}

function paidJson(paid: PaymentReceipt): Record<string, string | number> {
  return {
    kind: paid.kind,
    cost: paid.cost.toString(),
    channel: paid.channel.openBlock,
    receiver: paid.channel.receiver,
    balance: paid.balance.toString(),
    deposit: paid.deposit.toString(),
    credit: paid.credit.toString(),
  };
}

function paidLine(paid: PaymentReceipt): string {
  const how = paid.kind === "proof" ? "balance proof" : "credit";
  return `paid ${paid.cost} (${how}) on channel ${paid.channel.openBlock} to ${short(paid.channel.receiver)}; balance ${paid.balance} of deposit ${paid.deposit}, credit ${paid.credit}`;
}

/** The response's body to stdout as it arrives (a metered stream's events one by one); with -i
 *  its status and headers, and what was paid (a stream's cost once it ended), to stderr. */
async function printFetched(
  run: CliRun,
  res: Response,
  receipts: readonly PaymentReceipt[],
  opts: FetchOptions,
): Promise<void> {
  const { io } = run;
  if (opts.include) {
    io.stderr(`HTTP ${res.status} ${res.statusText}\n`);
    res.headers.forEach((v, k) => {
      io.stderr(`${k}: ${v}\n`);
    });
  }
  let last: number | undefined;
  const reader = res.body?.getReader();
  while (reader) {
    const { done, value } = await reader.read();
    if (done) break;
    if (value.length === 0) continue;
    io.stdout(value);
    last = value[value.length - 1];
  }
  // On a terminal, start the payment line on a line of its own.
  if (io.terminal && last !== undefined && last !== 0x0a) io.stderr("\n");
  const paid = receipts.at(-1);
  if (opts.json) io.stderr(`${JSON.stringify({ status: res.status, paid: paid ? paidJson(paid) : null })}\n`);
  else if (paid) run.say(paidLine(paid));
  else if (!run.globals.quiet) run.say(`HTTP ${res.status}; nothing paid`);
}

function addFetchCommand(run: CliRun): void {
  run.program
    .command("fetch")
    .description("make an HTTP request, paying for it if the server asks (body to stdout, payment to stderr)")
    .argument("<url>", "the URL")
    .option("-X, --request <method>", "HTTP method")
    .option("-H, --header <header>", 'request header "Name: value" (repeatable)', parseHeader, [])
    .option("-d, --data <data>", "request body; @file reads a file, @- reads stdin")
    .option(
      "--max-spend <amount>",
      "refuse to pay more than this for the request, redirects included (base units)",
      parseAmount,
    )
    .option("--deposit-multiple <n>", "a new channel's deposit as a multiple of the price", parsePositiveInt)
    .option("--min-deposit <amount>", "a new channel's smallest deposit (base units)", parseAmount)
    .option("-i, --include", "print the response status and headers to stderr")
    .option("--json", "print the payment as JSON to stderr")
    .action(async (url: string, opts: FetchOptions) => {
      const { target, init } = await fetchRequest(url, opts, run.io);
      const receipts: PaymentReceipt[] = [];
      const client = run.client({
        ...(opts.maxSpend !== undefined ? { maxSpend: { perRequest: opts.maxSpend } } : {}),
        beforePay: commandCap(opts.maxSpend),
        deposit: {
          ...(opts.depositMultiple !== undefined ? { multiple: opts.depositMultiple } : {}),
          ...(opts.minDeposit !== undefined ? { minimum: opts.minDeposit } : {}),
        },
        afterPay: (r) => {
          receipts.push(r);
        },
      });
      const res = await client.fetch(target, init);
      await printFetched(run, res, receipts, opts);
      if (res.status >= 400) run.exitCode = EXIT_FAILURE;
    });
}

function addChannelsCommands(run: CliRun): void {
  run.program
    .command("channels")
    .description("list the payer's channels (refreshed from the chain)")
    .argument("[server-url]", "only the channels to this server")
    .option("--all", "include settled channels")
    .option("--json", "print JSON")
    .action(async (server: string | undefined, opts: { all?: boolean; json?: boolean }) => {
      const list = await run.client().channels({ ...(server ? { server } : {}), all: opts.all ?? false });
      run.print(opts.json, list, channelsTable);
    });

  run.program
    .command("topup")
    .description("add to the deposit of the channel to a server (or open one)")
    .argument("<server-url>", "the server")
    .argument("<amount>", "amount in token base units", parseAmount)
    .option("--channel <openBlock>", "the channel to top up", parseOpenBlockArg)
    .option("--json", "print JSON")
    .action(async (server: string, amount: bigint, opts: { channel?: number; json?: boolean }) => {
      const channel = opts.channel !== undefined ? { openBlock: opts.channel } : {};
      run.print(opts.json, await run.client().topUp(server, amount, channel), topUpLine);
    });
}

function addCloseCommands(run: CliRun): void {
  run.program
    .command("close")
    .description("close the channels to a server and get the unspent deposit back")
    .argument("<server-url>", "the server")
    .option("--channel <openBlock>", "only this channel", parseOpenBlockArg)
    .option("--uncooperative", "do not ask the server: start the challenge period at the last balance it accepted")
    .option("--json", "print JSON")
    .action(async (server: string, opts: { channel?: number; uncooperative?: boolean; json?: boolean }) => {
      const results = await run.client().close(server, {
        ...(opts.channel !== undefined ? { openBlock: opts.channel } : {}),
        uncooperative: opts.uncooperative ?? false,
      });
      run.print(opts.json, results, (rs) => rs.map(closeLine).join(""));
    });

  run.program
    .command("settle")
    .description("settle uncooperatively closed channels whose challenge period is over")
    .argument("[server-url]", "only the channels to this server")
    .option("--json", "print JSON")
    .action(async (server: string | undefined, opts: { json?: boolean }) => {
      const results = await run.client().settle(server ? { server } : {});
      run.print(opts.json, results, (rs) => (rs.length === 0 ? "no closing channels\n" : rs.map(settleLine).join("")));
    });
}

/** The token `faucet` mints: `--token`, else the one the server names (with its chain). */
async function faucetToken(
  server: string | undefined,
  token: Address | undefined,
): Promise<{ token: Address; chainId?: number }> {
  if (token) return { token };
  if (!server) throw new UsageError("name the server (edge402 faucet <server-url>) or the token (--token <address>)");
  let gateway: string;
  try {
    gateway = gatewayOf(server);
  } catch {
    throw new UsageError(`not a URL: ${server}`);
  }
  const info = await fetchServerInfo(gateway, globalThis.fetch);
  return { token: info.token, chainId: info.chainId };
}

function addFaucetCommand(run: CliRun): void {
  run.program
    .command("faucet")
    .description("mint test tokens (TestToken's public mint) on a local chain, to the key's account")
    .argument("[server-url]", "the edge402 server whose token to mint (read from its /api/1/stats)")
    .option("--token <address>", "the token to mint, instead of asking a server", parseAddressArg)
    .option("--to <address>", "who gets the tokens (default: the key's account)", parseAddressArg)
    .option("--amount <amount>", `amount in token base units (default ${DEFAULT_FAUCET_AMOUNT})`, parseAmount)
    .option("--json", "print JSON")
    .action(
      async (server: string | undefined, opts: { token?: Address; to?: Address; amount?: bigint; json?: boolean }) => {
        const { key, rpcUrl } = run.credentials();
        const { token, chainId } = await faucetToken(server, opts.token);
        const result = await mintTestTokens({
          account: privateKeyToAccount(key),
          rpcUrl,
          token,
          to: opts.to,
          amount: opts.amount,
          chainId,
          confirmations: run.globals.confirmations,
          pollingInterval: 500,
        });
        const printable = {
          ...result,
          amount: String(result.amount),
          balance: String(result.balance),
          gasGranted: String(result.gasGranted),
        };
        run.print(opts.json, printable, () => faucetLine(result));
      },
    );
}

/** A failure's exit code, said on stderr: 2 for a refused payment (with its code), else 1. */
function exitCodeOf(err: unknown, run: CliRun): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_FAILURE;
  if (err instanceof UsageError) {
    run.say(err.message);
    return EXIT_FAILURE;
  }
  if (isEdge402Error(err)) {
    run.say(`${err.code}: ${err.message}`);
    return ["chain_error", "server_unreachable", "invalid_argument", "no_channel"].includes(err.code)
      ? EXIT_FAILURE
      : EXIT_REFUSED;
  }
  const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : "";
  run.say(err instanceof Error ? `${err.message}${cause}` : String(err));
  return EXIT_FAILURE;
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const run = new CliRun(io, createProgram(io));
  addFetchCommand(run);
  addChannelsCommands(run);
  addCloseCommands(run);
  addFaucetCommand(run);
  try {
    await run.program.parseAsync(argv);
    return run.exitCode;
  } catch (err) {
    return exitCodeOf(err, run);
  }
}

class UsageError extends Error {}

function defaultIo(): CliIo {
  return {
    stdout: (chunk) => process.stdout.write(chunk),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    terminal: Boolean(process.stdout.isTTY && process.stderr.isTTY),
    stdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
  };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}

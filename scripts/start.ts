// `npm start`: the local run of PROTOCOL.md section 4, on fixed ports ($ANVIL_PORT, default 8545;
// $PORT, default 8787; $ORIGIN_PORT for the demo origin, default a free one), printing a line per
// start-up step, then what runs where and copy-paste commands that fund a test key and make a
// paid request with the edge402 CLI and with x402's own client (scripts/x402-pay.ts: the stock
// `exact` scheme, or edge402's `channel` scheme). A taken port ends it at once with one line
// naming the port and its variable (exit 1). Ctrl-C (or SIGTERM) stops everything.
import { DEFAULT_FAUCET_AMOUNT } from "../src/client/faucet.js";
import { ANVIL_ADDRESSES, ANVIL_KEYS } from "./anvil.js";
import { PortInUseError, STACK_STEPS, startStack, type Stack, type StackStep } from "./stack.js";

function portFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const port = Number(text);
  if (!/^[0-9]+$/.test(text) || port < 1 || port > 65535) {
    console.error(`${name} must be a port number from 1 to 65535, got ${JSON.stringify(text)}`);
    process.exit(1);
  }
  return port;
}

function banner(stack: Stack): string {
  const userKey = ANVIL_KEYS[3]!;
  const userAddress = ANVIL_ADDRESSES[3]!;
  const u = stack.url;
  const routes: Array<[string, string]> = [
    [`GET ${u}/echofix/{param}`, "price 5, answers param"],
    [`GET ${u}/article/{slug}`, "price 5, an HTML page: open it in a browser with a wallet to pay there"],
    [`GET ${u}/echodyn/{n}`, "price n, answers n"],
    [`GET ${u}/free/{param}`, "free, answers param"],
    [`GET ${u}/trial/{param}`, "price 5, free to a new client during its trial"],
    [`GET ${u}/metered/{ms}`, "metered: busy ms milliseconds, at most 100"],
    [`GET ${u}/stream/{n}`, "metered stream: n SSE events, one every 50 ms, 2 per event; resumes after Last-Event-ID"],
    ...stack.proxyRoutes.map(({ method, path, price }): [string, string] => [
      `${method} ${u}${path}`,
      `price ${price}, proxied to the demo origin ${stack.origin.url}`,
    ]),
  ];
  const width = Math.max(...routes.map(([r]) => r.length));
  const lines = [
    "",
    "edge402 local run is up",
    "",
    `  anvil RPC        ${stack.rpcUrl}   (chain id ${stack.chainId})`,
    `  token            ${stack.token}   (TestToken, public mint() faucet)`,
    `  contract         ${stack.contract}   (MicroTransferChannels, challenge period 500)`,
    `  receiver         ${stack.receiver}   (anvil account 1)`,
    `  worker           ${u}`,
    `  x402 facilitator ${stack.facilitator.url}   (x402's own, settling from anvil account 2)`,
    `  demo origin      ${stack.origin.url}`,
    `  admin token      ${stack.adminToken}`,
    "",
    "Routes:",
    ...routes.map(([r, d]) => `  ${r.padEnd(width)}   ${d}`),
    `  GET ${u}/api/1/stats, ${u}/api/1/pricing, ${u}/api/1/channels/{sender}/{openBlock}`,
    `  ${u}/api/1/admin/...   with  Authorization: Bearer ${stack.adminToken}`,
    "",
    "A funded test key (anvil account 3; accounts 3 and up are left for users and tests):",
    `  address      ${userAddress}`,
    `  private key  ${userKey}`,
    "",
    "Try it:",
    `  curl -i ${u}/free/hello`,
    `  curl -i ${u}/echofix/hello        # 402 with the payment terms`,
    "",
    "Make a paid request (opens a channel, pays 5, prints the answer):",
    `With the edge402 CLI (first mint ${DEFAULT_FAUCET_AMOUNT} test tokens to the key's account from the TestToken faucet):`,
    `  export EDGE402_PRIVATE_KEY=${userKey} EDGE402_RPC_URL=${stack.rpcUrl}`,
    `  npx edge402 faucet ${u}`,
    `  npx edge402 fetch ${u}/echofix/hello`,
    "",
    `In a browser: add chain ${stack.chainId} (RPC ${stack.rpcUrl}) to your wallet, import the key above, mint`,
    `test tokens with the faucet, then open ${u}/article/hello and click Pay (your channel: ${u}/api/1/wallet).`,
    "Pay with x402's own client (@x402/fetch; after the faucet above):",
    `  EDGE402_PRIVATE_KEY=${userKey} npx tsx scripts/x402-pay.ts ${u}/echofix/hello   # stock "exact"`,
    `  EDGE402_PRIVATE_KEY=${userKey} EDGE402_RPC_URL=${stack.rpcUrl} npx tsx scripts/x402-pay.ts --channel ${u}/echofix/hello`,
    "",
    "Ctrl-C stops everything.",
    "",
  ];
  return lines.join("\n");
}

/** The variable that moves each fixed port. */
const PORT_VARS = { anvil: "ANVIL_PORT", worker: "PORT", origin: "ORIGIN_PORT" } as const;

/** One line per start-up step, as it is done: `  ✓ anvil up                 0.4 s`. */
function printStep(step: StackStep, ms: number): void {
  const width = Math.max(...STACK_STEPS.map((s) => s.length));
  console.log(`  ✓ ${step.padEnd(width)}   ${(ms / 1000).toFixed(1)} s`);
}

async function main(): Promise<void> {
  const anvilPort = portFromEnv("ANVIL_PORT", 8545);
  const port = portFromEnv("PORT", 8787);
  const originPort = portFromEnv("ORIGIN_PORT", 0);
  console.log(`starting anvil on 127.0.0.1:${anvilPort} and the Worker on 127.0.0.1:${port} ...`);
  let stack: Stack;
  try {
    stack = await startStack({ anvilPort, port, originPort, quiet: false, handleSignals: false, onStep: printStep });
  } catch (err) {
    if (err instanceof PortInUseError) {
      console.error(
        `${err.message}. Stop what uses it, or choose another port: ${PORT_VARS[err.service]}=<port> npm start`,
      );
    } else {
      console.error(`npm start failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    process.exit(1);
  }
  console.log(banner(stack));

  // One Ctrl-C reaches this process more than once (from the terminal and relayed by npm and
  // tsx), so repeats within a few seconds are ignored; a later one forces the exit, and the
  // exit hook of scripts/stack.ts then kills whatever is left.
  let stoppingSince = 0;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stoppingSince) {
      if (Date.now() - stoppingSince < 3_000) return;
      console.log("forced exit");
      process.exit(130);
    }
    stoppingSince = Date.now();
    console.log(`\n${signal}: stopping ...`);
    stack.stop().then(
      () => {
        console.log("stopped");
        process.exit(0);
      },
      (err: unknown) => {
        console.error(`stop failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
  process.on("SIGHUP", shutdown);
}

void main();

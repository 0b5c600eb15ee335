// Vitest global setup for the worker tests: starts a real anvil on a free port, deploys the
// token and the channel manager, and hands their addresses to the test project through
// `provide`, from where the workerd pool turns them into the Worker's bindings. A second anvil,
// `reorgChain`, is private to the tests that rewrite history (evm_snapshot / evm_revert), which
// would otherwise take blocks away from every other test file sharing the first chain. Two
// recording HTTP origins (`origins`) let the proxy tests see what reached the configured origin
// and prove that nothing reached another host. A local x402 facilitator (`facilitator`, x402's
// own code, scripts/x402-facilitator.ts) on the first chain verifies and settles the Worker's
// x402 `exact` payments, from an account of its own.
import { generatePrivateKey } from "viem/accounts";
import type { TestProject } from "vitest/node";
import { deployContracts } from "../../contracts/deploy.js";
import { ANVIL_KEYS, rpc, startAnvil } from "../../scripts/anvil.js";
import { startX402Facilitator } from "../../scripts/x402-facilitator.js";
import { startRecordingOrigin } from "./recording-origin.js";

declare module "vitest" {
  export interface ProvidedContext {
    chain: { rpcUrl: string; chainId: number; contract: string; token: string; deployBlock: number };
    reorgChain: { rpcUrl: string; chainId: number; contract: string; token: string; deployBlock: number };
    origins: { origin: string; other: string };
    facilitator: { url: string; address: string; key: string };
  }
}

export default async function setup(project: TestProject) {
  const anvil = await startAnvil();
  const d = await deployContracts({ rpcUrl: anvil.rpcUrl, privateKey: ANVIL_KEYS[0]! });
  project.provide("chain", {
    rpcUrl: anvil.rpcUrl,
    chainId: d.chainId,
    contract: d.channels,
    token: d.token,
    deployBlock: Number(d.deployBlock),
  });
  const reorgAnvil = await startAnvil();
  const r = await deployContracts({ rpcUrl: reorgAnvil.rpcUrl, privateKey: ANVIL_KEYS[0]! });
  project.provide("reorgChain", {
    rpcUrl: reorgAnvil.rpcUrl,
    chainId: r.chainId,
    contract: r.channels,
    token: r.token,
    deployBlock: Number(r.deployBlock),
  });
  const [origin, other] = await Promise.all([startRecordingOrigin(), startRecordingOrigin()]);
  project.provide("origins", { origin: origin.url, other: other.url });
  const facilitatorKey = generatePrivateKey();
  const facilitator = await startX402Facilitator({
    rpcUrl: anvil.rpcUrl,
    chainId: d.chainId,
    privateKey: facilitatorKey,
  });
  await rpc(anvil.rpcUrl, "anvil_setBalance", [facilitator.address, "0x3635C9ADC5DEA00000"]);
  project.provide("facilitator", { url: facilitator.url, address: facilitator.address, key: facilitatorKey });
  return async () => {
    await Promise.all([anvil.stop(), reorgAnvil.stop(), origin.stop(), other.stop(), facilitator.stop()]);
  };
}

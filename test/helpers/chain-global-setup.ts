// Vitest global setup for the worker tests: starts a real anvil on a free port, deploys the
// token and the channel manager, and hands their addresses to the test project through
// `provide`, from where the workerd pool turns them into the Worker's bindings.
import type { TestProject } from "vitest/node";
import { deployContracts } from "../../contracts/deploy.js";
import { ANVIL_KEYS, startAnvil } from "../../scripts/anvil.js";

declare module "vitest" {
  export interface ProvidedContext {
    chain: { rpcUrl: string; chainId: number; contract: string; token: string; deployBlock: number };
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
  return async () => {
    await anvil.stop();
  };
}

// The generated src/protocol/channel-code.ts describes what a deployment really holds: the code
// anvil returns for MicroTransferChannels deployed from contracts/out passes the client's code
// check (src/client/contract-code.ts) with the deployment's own token and challenge period, for
// any constructor arguments, and only at the address it was deployed to.
import { describe, expect, it } from "vitest";
import { readArtifact } from "../../contracts/deploy.js";
import { checkChannelCode } from "../../src/client/contract-code.js";
import { CHALLENGE_PERIOD, DEPLOYER, addr, useChain } from "./fixture.js";

const env = useChain();

describe("the channel manager's runtime code", () => {
  it("matches the build at the address it was deployed to, whatever the token and challenge period", async () => {
    const code = await env.publicClient.getCode({ address: env.channels });
    expect(checkChannelCode(code, { chainId: env.chainId, address: env.channels })).toEqual({ ok: true, token: env.token, challengePeriod: CHALLENGE_PERIOD });

    const { abi, bytecode } = readArtifact("MicroTransferChannels");
    const otherToken = addr(env, 5);
    const hash = await env.wallets[DEPLOYER]!.deployContract({ abi, bytecode, args: [otherToken, 86_400] });
    const other = (await env.publicClient.waitForTransactionReceipt({ hash })).contractAddress!;
    const otherCode = await env.publicClient.getCode({ address: other });
    expect(checkChannelCode(otherCode, { chainId: env.chainId, address: other })).toEqual({ ok: true, token: otherToken, challengePeriod: 86_400 });
    // The same code judged at another address is another contract's EIP-712 cache.
    expect(checkChannelCode(otherCode, { chainId: env.chainId, address: env.channels }).ok).toBe(false);
    // And the token contract is not a channel manager at all.
    expect(checkChannelCode(await env.publicClient.getCode({ address: env.token }), { chainId: env.chainId, address: env.token }).ok).toBe(false);
  });
});

// Guards the committed build output: compiles contracts/*.sol afresh with the bundled solc and
// fails when contracts/out/*.json or src/protocol/abi.ts differ from what contracts/build.ts
// would write now, i.e. when someone edited a contract and forgot `npm run build:contracts`.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, compileContracts, renderArtifacts } from "../../contracts/build.js";
import { microTransferChannelsAbi, testTokenAbi } from "../../src/protocol/abi.js";

describe("compiled artifacts", () => {
  const fresh = renderArtifacts(compileContracts());

  it.each(Object.keys(fresh))("%s matches a fresh compile", (path) => {
    let committed: string;
    try {
      committed = readFileSync(join(REPO_ROOT, path), "utf8");
    } catch {
      throw new Error(`${path} is missing: run npm run build:contracts`);
    }
    if (committed !== fresh[path]) {
      throw new Error(`${path} is stale (it differs from a fresh compile): run npm run build:contracts`);
    }
  });

  it("contracts/out has the {abi, bytecode} shape and abi.ts carries the same ABIs", () => {
    for (const [name, abi] of [
      ["MicroTransferChannels", microTransferChannelsAbi],
      ["TestToken", testTokenAbi],
    ] as const) {
      const artifact = JSON.parse(readFileSync(join(REPO_ROOT, `contracts/out/${name}.json`), "utf8"));
      expect(Object.keys(artifact)).toEqual(["abi", "bytecode"]);
      expect(artifact.bytecode).toMatch(/^0x(?:[0-9a-f]{2})+$/);
      expect(artifact.abi).toEqual(abi);
    }
  });

  it("the channel manager's ABI has the protocol's events with their exact signatures", () => {
    const events = microTransferChannelsAbi
      .filter((item) => item.type === "event")
      .map((e) => `${e.name}(${e.inputs.map((i) => `${i.type}${i.indexed ? " indexed" : ""} ${i.name}`).join(", ")})`)
      .sort();
    expect(events).toEqual(
      [
        "ChannelCreated(address indexed sender, address indexed receiver, uint32 indexed openBlock, uint192 deposit)",
        "ChannelToppedUp(address indexed sender, address indexed receiver, uint32 indexed openBlock, uint192 added)",
        "ChannelCloseRequested(address indexed sender, address indexed receiver, uint32 indexed openBlock, uint192 balance, uint32 settleBlock)",
        "ChannelSettled(address indexed sender, address indexed receiver, uint32 indexed openBlock, uint192 balance, uint192 receiverTokens)",
        "ChannelWithdraw(address indexed sender, address indexed receiver, uint32 indexed openBlock, uint192 withdrawn)",
        "EIP712DomainChanged()",
      ].sort(),
    );
  });

  it("the channel manager's functions have the protocol's names and argument order", () => {
    const fns = Object.fromEntries(
      microTransferChannelsAbi
        .filter((item) => item.type === "function")
        .map((f) => [f.name, f.inputs.map((i) => `${i.type} ${i.name}`).join(",")]),
    );
    expect(fns).toMatchObject({
      createChannel: "address receiver,uint192 deposit",
      createChannelWithPermit: "address receiver,uint192 deposit,uint256 deadline,uint8 v,bytes32 r,bytes32 s",
      topUp: "address receiver,uint32 openBlock,uint192 added",
      withdraw: "uint32 openBlock,uint192 balance,bytes balanceSig",
      cooperativeClose: "address receiver,uint32 openBlock,uint192 balance,bytes balanceSig,bytes closingSig",
      uncooperativeClose: "address receiver,uint32 openBlock,uint192 balance",
      settle: "address sender,address receiver,uint32 openBlock",
      getChannelInfo: "address sender,address receiver,uint32 openBlock",
      getKey: "address sender,address receiver,uint32 openBlock",
      token: "",
      challengePeriod: "",
    });
    const info = microTransferChannelsAbi.find((f) => f.type === "function" && f.name === "getChannelInfo");
    expect(info && "outputs" in info ? info.outputs.map((o) => `${o.type} ${o.name}`) : []).toEqual([
      "bytes32 key",
      "uint192 deposit",
      "uint32 settleBlock",
      "uint192 closingBalance",
      "uint192 withdrawn",
    ]);
  });
});

// A second process for src/client/file-store.test.ts, run with `node --import tsx`:
//   race <home> <openBlock> <go-file>  waits for <go-file>, loads the sender's channels, works a
//                                      moment (as a paying client does), saves them with one more
//                                      channel at <openBlock>, and exits;
//   hold <home> <ready-file>           loads (taking the lock), writes <ready-file>, and waits to be killed.
import { existsSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { Address } from "viem";
import { FileChannelStore } from "../../src/client/file-store.js";
import type { StoredChannel } from "../../src/client/store.js";

export const SENDER: Address = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";

export function storedChannel(openBlock: number): StoredChannel {
  return {
    chainId: 31337,
    contract: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
    token: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    sender: SENDER,
    receiver: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    openBlock,
    state: "open",
    deposit: "500",
    balance: "5",
    signed: "5",
    credit: "0",
    gateways: [],
    updatedAt: 1,
  };
}

async function main([mode, home, ...rest]: string[]): Promise<void> {
  const store = new FileChannelStore(home!, { lockTimeoutMs: 60_000 });
  if (mode === "race") {
    const [openBlock, go] = rest;
    while (!existsSync(go!)) await sleep(5);
    const channels = await store.load(SENDER);
    await sleep(300);
    await store.save(SENDER, [...channels, storedChannel(Number(openBlock))]);
  } else if (mode === "hold") {
    await store.load(SENDER);
    writeFileSync(rest[0]!, String(process.pid));
    await sleep(600_000);
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
}

if (process.argv[1]?.endsWith("store-child.ts")) await main(process.argv.slice(2));

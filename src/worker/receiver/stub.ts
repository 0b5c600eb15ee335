// How the Worker reaches the receiver's transaction sender: one ReceiverObject per receiver
// address (a new key starts with a fresh nonce tracker), whatever isolate asks.
import type { Env } from "../env.js";
import { getConfig } from "../config.js";

export function receiverStub(env: Env) {
  const address = getConfig(env).receiverAddress.toLowerCase();
  return env.RECEIVER.get(env.RECEIVER.idFromName(`receiver-${address}`));
}

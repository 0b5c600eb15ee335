// How the Worker reaches the receiver's transaction sender: one ReceiverObject per receiver
// address (a new key starts with a fresh nonce tracker), whatever isolate asks.
import type { Env } from "../env.js";
import { getConfig } from "../config.js";
import type { ReceiverObject } from "./object.js";

export function receiverStub(env: Env) {
  const address = getConfig(env).receiverAddress.toLowerCase();
  const ns = env.RECEIVER as DurableObjectNamespace<ReceiverObject>;
  return ns.get(ns.idFromName(`receiver-${address}`));
}

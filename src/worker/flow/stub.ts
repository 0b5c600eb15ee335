// How the Worker reaches a free client's FlowObject: one Durable Object per client key (the
// IP, or its IPv6 prefix), named by that key.
import type { Config } from "../config.js";
import type { Env } from "../env.js";
import { clientKey } from "./client-key.js";
import type { FlowObject } from "./object.js";

export function flowStubForKey(env: Env, key: string) {
  const ns = env.FLOW as DurableObjectNamespace<FlowObject>;
  return ns.get(ns.idFromName(key));
}

/** The FlowObject of the client that sent `request`. */
export function flowStub(env: Env, config: Config, request: Request) {
  return flowStubForKey(env, clientKey(request.headers, config.flowKeyPrefix));
}

// The public management API under /api/1: server stats, the published prices, a channel's
// state, and the sender's close request (DELETE with a CloseRequest signature), which gets the
// receiver's ClosingProof at the charged total C (with B and its signature in the channel
// headers) and stops the channel serving.
import { count, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { Hono, type Context } from "hono";
import type { Address, Hex } from "viem";
import * as z from "zod/mini";
import { parseAddress, parseOpenBlock, parseSignature, parseUint } from "../../protocol/codec.js";
import { isProtocolError, type ErrorCode } from "../../protocol/errors.js";
import { RdnHeaders } from "../../protocol/headers.js";
import { verifyCloseRequest } from "../../protocol/verify.js";
import { microTransferChannelsAbi } from "../../protocol/abi.js";
import { publicClient } from "../chain.js";
import { channelStub } from "../channel/stub.js";
import type { ChannelSnapshot } from "../channel/codec.js";
import type { CloseResult, InfoResult } from "../channel/object.js";
import { getConfig, type Config } from "../config.js";
import type { Env } from "../env.js";
import { channels, syncState } from "../db/schema.js";
import { BUFFER_SECONDS } from "../flow/bucket.js";
import { channelHeaders, errorResponse } from "../http/responses.js";
import { withLookup } from "../lookup/learn.js";
import { eachShard } from "../projection/shards.js";
import { maxServingMs, pricingMode, type PaywallOptions } from "../pricing.js";
import { address, amount, documented, type RouteDoc } from "./openapi.js";

type ApiContext = Context<{ Bindings: Env }>;

/** A priced route as GET /api/1/pricing announces it: method, path and paywall options. */
export type PricedRoute = { method: string; path: string; options: PaywallOptions };

export function channelJson(ch: ChannelSnapshot) {
  return {
    sender: ch.sender,
    openBlock: ch.openBlock,
    state: ch.state === "removed" ? "settled" : ch.state === "open" && ch.closeRequested ? "closing" : ch.state,
    deposit: ch.deposit.toString(),
    balance: ch.balance.toString(),
    charged: ch.charged.toString(),
    credit: ch.credit.toString(),
    withdrawn: ch.withdrawn.toString(),
    closeRequested: ch.closeRequested,
    ...(ch.settleBlock !== null ? { settleBlock: ch.settleBlock } : {}),
    ...(ch.closingBalance !== null ? { closingBalance: ch.closingBalance.toString() } : {}),
  };
}

let challengePeriodCache: Promise<number> | null = null;

async function challengePeriod(config: Config): Promise<number | null> {
  if (config.challengePeriod !== undefined) return config.challengePeriod;
  challengePeriodCache ??= publicClient(config)
    .readContract({ address: config.contract, abi: microTransferChannelsAbi, functionName: "challengePeriod" })
    .then(Number);
  try {
    return await challengePeriodCache;
  } catch {
    challengePeriodCache = null;
    return null;
  }
}

/** The channel the `{sender}/{openBlock}` path parameters name, with its object's stub; a 400
 *  answer when they are malformed. */
export function channelFromPath(c: ApiContext) {
  try {
    const sender = parseAddress(c.req.param("sender") ?? "", "sender");
    const openBlock = parseOpenBlock(c.req.param("openBlock") ?? "", "openBlock");
    return { sender, openBlock, stub: channelStub(c.env, sender, openBlock) };
  } catch (err) {
    if (isProtocolError(err)) return errorResponse(c, "bad_request", { message: err.message });
    throw err;
  }
}

/** The server-wide flow-control figures: the allowances (cost units per second, and the buffer
 *  of BUFFER_SECONDS of it), the trial, and how free clients are keyed. */
function flowControlJson(config: Config) {
  return {
    enabled: config.flowControl,
    freeCapacity: config.freeCapacity,
    paidCapacity: config.paidCapacity,
    bufferSeconds: BUFFER_SECONDS,
    trialSeconds: config.trialSeconds,
    freeClientKey: { ipv4: "address", ipv6PrefixBits: config.flowKeyPrefix },
  };
}

function refusal(c: Context, code: ErrorCode, message?: string, headers?: Record<string, string>) {
  // Channel look-ups answer "unknown channel" as 404 rather than the payment flag.
  if (code === "nonexisting_channel") return errorResponse(c, "not_found", { message: "No such channel on chain." });
  return errorResponse(c, code, { message, headers });
}

/**
 * The public management API: `GET /stats`, `GET /pricing` (announcing `routes`),
 * `GET /channels/{sender}/{openBlock}` and `DELETE /channels/{sender}/{openBlock}` (the sender's
 * signed close request). `createApp` mounts it; mount it yourself under `/api/1` in an app of
 * your own.
 *
 * @param routes - The priced routes to announce (method, path, paywall options).
 * @returns A Hono app to mount under `GATEWAY_PATH`.
 * @example
 * ```ts
 * app.route(GATEWAY_PATH, managementApi([{ method: "GET", path: "/joke", options: { price: 10n } }]));
 * ```
 */
export function managementApi(routes: PricedRoute[]) {
  const api = new Hono<{ Bindings: Env }>();
  api.get("/stats", documented(docs.stats, stats));
  api.get(
    "/pricing",
    documented(docs.pricing, (c) => pricing(c, routes)),
  );
  api.get("/channels/:sender/:openBlock", documented(docs.channelInfo, channelInfo));
  api.delete("/channels/:sender/:openBlock", documented(docs.closeChannel, closeChannel));
  return api;
}

/** The `{sender}/{openBlock}` path parameters of a channel. */
export const channelPath = z.object({
  sender: address,
  openBlock: z.string().check(z.regex(/^[0-9]+$/)),
});

/** A channel as `channelJson` answers it. */
export const channelSchema = z.object({
  sender: address,
  openBlock: z.number(),
  state: z.enum(["open", "closing", "settled"]),
  deposit: amount,
  balance: amount,
  charged: amount,
  credit: amount,
  withdrawn: amount,
  closeRequested: z.boolean(),
  settleBlock: z.optional(z.number()),
  closingBalance: z.optional(amount),
});

const flowControlSchema = z.object({
  enabled: z.boolean(),
  freeCapacity: z.number(),
  paidCapacity: z.number(),
  bufferSeconds: z.number(),
  trialSeconds: z.number(),
  freeClientKey: z.object({ ipv4: z.literal("address"), ipv6PrefixBits: z.number() }),
});

const allowance = z.object({ capacity: z.number(), buffer: z.number() });

const docs = {
  stats: {
    summary: "The deployment, the chain sync's progress and health, the open channels",
    ok: z.object({
      receiver: address,
      contract: address,
      token: address,
      chainId: z.number(),
      challengePeriod: z.nullable(z.number()),
      minConfirmations: z.number(),
      syncedBlock: z.nullable(z.number()),
      openChannels: z.number(),
      sync: z.nullable(
        z.object({
          headBlock: z.nullable(z.number()),
          lastRunAt: z.nullable(z.number()),
          reorgs: z.number(),
          lastError: z.nullable(z.string()),
          lastErrorAt: z.nullable(z.number()),
        }),
      ),
      flowControl: flowControlSchema,
    }),
  },
  pricing: {
    summary: "The token, the allowances and every priced route",
    ok: z.object({
      token: address,
      chainId: z.number(),
      allowCredit: z.boolean(),
      flowControl: flowControlSchema,
      allowances: z.object({ free: allowance, paid: allowance }),
      trialSeconds: z.number(),
      routes: z.array(
        z.object({
          method: z.string(),
          path: z.string(),
          mode: z.enum(["fixed", "dynamic", "metered"]),
          price: z.optional(amount),
          maxPrice: z.optional(amount),
          meter: z.optional(
            z.object({
              perMs: z.number(),
              perKiB: z.number(),
              perEvent: z.number(),
              maxServingMs: z.number(),
              stream: z.boolean(),
            }),
          ),
          costUnits: z.number(),
          trial: z.boolean(),
          description: z.optional(z.string()),
        }),
      ),
    }),
  },
  channelInfo: {
    summary: "A channel as this paywall holds it (learned from the chain on first sight)",
    params: channelPath,
    ok: channelSchema,
    errors: ["bad_request", "not_found", "insufficient_confirmations", "rate_limited", "chain_unavailable"],
  },
  closeChannel: {
    summary: "The sender's signed close request: the receiver's ClosingProof at the charged total",
    description: "The channel stops serving. The channel headers (RDN-*) carry B and its signature.",
    params: channelPath,
    headers: z.object({ [RdnHeaders.closeSignature]: z.string(), [RdnHeaders.closeDeadline]: z.string() }),
    ok: z.object({ balance: amount, closingSignature: z.string(), channel: channelSchema }),
    errors: [
      "bad_request",
      "invalid_close_request",
      "not_found",
      "channel_closing",
      "rate_limited",
      "chain_unavailable",
    ],
  },
} satisfies Record<string, RouteDoc>;

/** How long an isolate reuses its count of open channels: /stats is public, and the count asks
 *  every projection shard. */
const OPEN_COUNT_TTL_MS = 5_000;
const openCounts = new WeakMap<object, { at: number; n: number }>();

/** The open channels over every shard, counted at most once per OPEN_COUNT_TTL_MS an isolate
 *  (the number is kept, never a promise: another request's I/O cannot be awaited). */
async function openChannelCount(env: Env): Promise<number> {
  const held = openCounts.get(env);
  if (held && Date.now() - held.at < OPEN_COUNT_TTL_MS) return held.n;
  const counts = await eachShard(env, async (shard) => {
    const [row] = await shard.select({ n: count() }).from(channels).where(eq(channels.state, "open"));
    return row?.n ?? 0;
  });
  const n = counts.reduce((a, b) => a + b, 0);
  openCounts.set(env, { at: Date.now(), n });
  return n;
}

/** GET /stats: the deployment, the sync's progress and health, the open channels. */
async function stats(c: ApiContext): Promise<Response> {
  const config = getConfig(c.env);
  const db = drizzle(c.env.DB);
  const [sync] = await db.select().from(syncState).where(eq(syncState.id, "main"));
  const openChannels = await openChannelCount(c.env);
  return c.json({
    receiver: config.receiverAddress,
    contract: config.contract,
    token: config.token,
    chainId: config.chainId,
    challengePeriod: await challengePeriod(config),
    minConfirmations: config.minConfirmations,
    syncedBlock: sync?.blockNumber ?? null,
    openChannels,
    sync: sync
      ? {
          headBlock: sync.headBlock,
          lastRunAt: sync.lastRunAt,
          reorgs: sync.reorgs,
          lastError: sync.lastError,
          lastErrorAt: sync.lastErrorAt,
        }
      : null,
    flowControl: flowControlJson(config),
  });
}

/** GET /pricing: the token, the allowances and every priced route. */
function pricing(c: ApiContext, routes: PricedRoute[]): Response {
  const config = getConfig(c.env);
  return c.json({
    token: config.token,
    chainId: config.chainId,
    allowCredit: config.allowCredit,
    flowControl: flowControlJson(config),
    allowances: {
      free: { capacity: config.freeCapacity, buffer: config.freeCapacity * BUFFER_SECONDS },
      paid: { capacity: config.paidCapacity, buffer: config.paidCapacity * BUFFER_SECONDS },
    },
    trialSeconds: config.trialSeconds,
    routes: routes.map(pricedRouteJson),
  });
}

function pricedRouteJson({ method, path, options }: PricedRoute) {
  const mode = pricingMode(options);
  const meter = options.metered;
  return {
    method,
    path,
    mode,
    ...(mode === "fixed" ? { price: String(options.price ?? 0) } : {}),
    ...(meter
      ? {
          maxPrice: String(meter.maxPrice),
          meter: {
            perMs: meter.perMs ?? 1,
            perKiB: meter.perKiB ?? 0,
            perEvent: meter.perEvent ?? 0,
            maxServingMs: maxServingMs(meter),
            stream: meter.stream ?? false,
          },
        }
      : {}),
    costUnits: options.costUnits ?? 1,
    trial: options.trial ?? false,
    ...(options.description ? { description: options.description } : {}),
  };
}

/** GET /channels/{sender}/{openBlock}: the channel as its object holds it (learned from the
 *  chain on first sight). */
async function channelInfo(c: ApiContext): Promise<Response> {
  const ch = channelFromPath(c);
  if (ch instanceof Response) return ch;
  const { sender, openBlock, stub } = ch;
  const result: InfoResult = await withLookup(
    c.env,
    getConfig(c.env),
    c.req.raw,
    sender,
    openBlock,
    (learned) => stub.info(sender, openBlock, learned) as Promise<InfoResult>,
  );
  if (result.ok || result.channel) return c.json(channelJson(result.channel!));
  return refusal(c, result.code, result.message, result.headers);
}

/** DELETE /channels/{sender}/{openBlock}: the receiver's ClosingProof at C for the sender's
 *  signed CloseRequest; the channel stops serving. */
async function closeChannel(c: ApiContext): Promise<Response> {
  const config = getConfig(c.env);
  const ch = channelFromPath(c);
  if (ch instanceof Response) return ch;
  const invalid = await checkCloseRequest(c, config, ch);
  if (invalid) return invalid;
  const { sender, openBlock, stub } = ch;
  const result: CloseResult = await withLookup(
    c.env,
    config,
    c.req.raw,
    sender,
    openBlock,
    (learned) => stub.requestClose(sender, openBlock, learned) as Promise<CloseResult>,
  );
  if (!result.ok) return refusal(c, result.code, result.message, result.headers);
  // B and its signature ride along, so a client that lost its state can check B >= C and
  // that B is its own before it signs C.
  return c.json(
    {
      balance: result.balance.toString(),
      closingSignature: result.closingSignature,
      channel: channelJson(result.channel),
    },
    200,
    {
      ...channelHeaders(result.channel),
      "Cache-Control": "no-store",
    },
  );
}

/** The `invalid_close_request` answer when the request's close headers are missing, malformed,
 *  expired or not signed by the channel's sender; null when the request is good. */
async function checkCloseRequest(
  c: ApiContext,
  config: Config,
  channel: { sender: Address; openBlock: number },
): Promise<Response | null> {
  const invalid = (message: string) => errorResponse(c, "invalid_close_request", { message });
  const sigText = c.req.header(RdnHeaders.closeSignature);
  const deadlineText = c.req.header(RdnHeaders.closeDeadline);
  if (!sigText || !deadlineText)
    return invalid(`A close request needs ${RdnHeaders.closeSignature} and ${RdnHeaders.closeDeadline}.`);
  let signature: Hex;
  let deadline: bigint;
  try {
    signature = parseSignature(sigText, RdnHeaders.closeSignature);
    deadline = parseUint(deadlineText, RdnHeaders.closeDeadline, 64);
  } catch (err) {
    if (isProtocolError(err)) return invalid(err.message);
    throw err;
  }
  if (deadline < BigInt(Math.floor(Date.now() / 1000))) return invalid("The close request's deadline has passed.");
  let valid = false;
  try {
    valid = await verifyCloseRequest({
      chainId: config.chainId,
      contract: config.contract,
      receiver: config.receiverAddress,
      openBlock: channel.openBlock,
      deadline,
      signature,
      sender: channel.sender,
    });
  } catch (err) {
    if (!isProtocolError(err)) throw err;
  }
  return valid ? null : invalid("The close request is not signed by the channel's sender.");
}

// Worker configuration: the wrangler vars and secrets, validated once per isolate into a typed
// `Config`. A missing or malformed setting fails with one error that names every bad key, so
// a misconfigured deployment says what to fix instead of failing on the first paid request.
import { getAddress, isAddress, isHex, type Address, type Hex } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import * as z from "zod/mini";
import { en } from "zod/v4/locales";
import { parseAmount } from "../protocol/amount.js";

// zod/mini (a tenth of classic zod in the bundle) has no messages of its own: the English ones
// classic zod uses, so that a missing or mistyped setting reads the same.
z.config(en());

const isAmount = (v: string | number) => parseAmount(v) !== null;
const decimal = (name: string) => z.string().check(z.refine(isAmount, `${name} must be an unsigned decimal integer`));
const address = (name: string) =>
  z.string().check(z.refine((v) => isAddress(v, { strict: false }), `${name} must be a 0x-prefixed 20-byte address`));
const secret = (name: string, min: number) =>
  z
    .string()
    .check(z.minLength(min, `${name} must be at least ${min} characters (set it with wrangler secret put ${name})`));
const flag = (name: string, fallback: "true" | "false") =>
  z._default(z.enum(["true", "false"], `${name} must be true or false`), fallback);

const schema = z.object({
  CHAIN_ID: decimal("CHAIN_ID"),
  RPC_URL: z.url("RPC_URL must be an http(s) URL"),
  CONTRACT_ADDRESS: address("CONTRACT_ADDRESS"),
  TOKEN_ADDRESS: address("TOKEN_ADDRESS"),
  RECEIVER_PRIVATE_KEY: z
    .string()
    .check(z.refine((v) => isHex(v) && v.length === 66, "RECEIVER_PRIVATE_KEY must be 0x + 64 hex digits")),
  ADMIN_TOKEN: secret("ADMIN_TOKEN", 16),
  SESSION_SECRET: secret("SESSION_SECRET", 16),
  MIN_CONFIRMATIONS: z._default(decimal("MIN_CONFIRMATIONS"), "1"),
  SESSION_TTL_SECONDS: z._default(decimal("SESSION_TTL_SECONDS"), "3600"),
  ALLOW_CREDIT: flag("ALLOW_CREDIT", "true"),
  ORIGIN_URL: z.optional(z.url("ORIGIN_URL must be an http(s) URL")),
  ORIGIN_SECRET: z.optional(z.string().check(z.minLength(16, "ORIGIN_SECRET must be at least 16 characters"))),
  PROXY_ROUTES: z.optional(z.string()),
  DEMO_ROUTES: flag("DEMO_ROUTES", "false"),
  DEPLOY_BLOCK: z._default(decimal("DEPLOY_BLOCK"), "0"),
  WITHDRAW_THRESHOLD: z._default(decimal("WITHDRAW_THRESHOLD"), "0"),
  SYNC_CHUNK_BLOCKS: z._default(decimal("SYNC_CHUNK_BLOCKS"), "2000"),
  SYNC_MAX_CHUNKS: z._default(decimal("SYNC_MAX_CHUNKS"), "20"),
  SYNC_MAX_OBJECT_CALLS: z._default(decimal("SYNC_MAX_OBJECT_CALLS"), "2000"),
  TRIAL_SECONDS: z._default(decimal("TRIAL_SECONDS"), "180"),
  FREE_CAPACITY: z._default(decimal("FREE_CAPACITY"), "10"),
  PAID_CAPACITY: z._default(decimal("PAID_CAPACITY"), "100"),
  FLOW_CONTROL: flag("FLOW_CONTROL", "true"),
  FLOW_KEY_PREFIX: z._default(decimal("FLOW_KEY_PREFIX"), "64"),
  CHALLENGE_PERIOD: z.optional(decimal("CHALLENGE_PERIOD")),
  LOOKUP_RPC_URL: z.optional(z.url("LOOKUP_RPC_URL must be an http(s) URL")),
  LOOKUP_RATE: z._default(decimal("LOOKUP_RATE"), "5"),
  ANALYTICS_ACCOUNT_ID: z.optional(
    z.string().check(z.regex(/^[0-9a-f]{32}$/, "ANALYTICS_ACCOUNT_ID must be a Cloudflare account id (32 hex digits)")),
  ),
  ANALYTICS_API_TOKEN: z.optional(secret("ANALYTICS_API_TOKEN", 20)),
  ANALYTICS_DATASET: z._default(
    z.string().check(z.regex(/^[A-Za-z0-9_]{1,64}$/, "ANALYTICS_DATASET must be a dataset name (letters, digits, _)")),
    "edge402_traffic",
  ),
  BROWSER_PREPAY_REQUESTS: z._default(decimal("BROWSER_PREPAY_REQUESTS"), "20"),
  BROWSER_DEPOSIT_REQUESTS: z._default(decimal("BROWSER_DEPOSIT_REQUESTS"), "100"),
  CORS_ORIGINS: z.optional(z.string()),
  X402_FACILITATOR_URL: z.optional(z.url("X402_FACILITATOR_URL must be an http(s) URL")),
  X402_TOKEN_NAME: z.optional(z.string()),
  X402_TOKEN_VERSION: z.optional(z.string()),
  PROJECTION_SHARDS: z._default(decimal("PROJECTION_SHARDS"), "1"),
});
/** The name of a var or secret the configuration reads. */
export type ConfigVar = keyof typeof schema.shape;

const amount = z.pipe(
  z.union([
    z.string().check(z.refine(isAmount, "must be an unsigned decimal integer")),
    z.int().check(z.nonnegative()),
  ]),
  z.transform(String),
);
const rate = z.optional(z.number().check(z.nonnegative()));
const proxyRoute = z.object({
  path: z.string().check(z.startsWith("/")),
  method: z._default(z.string().check(z.toUpperCase()), "GET"),
  price: z.optional(amount),
  metered: z.optional(
    z.object({
      maxPrice: amount,
      perMs: rate,
      perKiB: rate,
      perEvent: rate,
      maxServingMs: rate,
      stream: z.optional(z.boolean()),
    }),
  ),
  trial: z.optional(z.boolean()),
  costUnits: z.optional(z.int().check(z.positive())),
  description: z.optional(z.string()),
});
/** A priced path forwarded to ORIGIN_URL, from the PROXY_ROUTES var (a JSON array). */
export type ProxyRoute = z.infer<typeof proxyRoute>;

function parseProxyRoutes(text: string | undefined): ProxyRoute[] {
  if (!text) return [];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(["PROXY_ROUTES must be a JSON array of routes"]);
  }
  const parsed = z.array(proxyRoute).safeParse(json);
  if (!parsed.success)
    throw new ConfigError(parsed.error.issues.map((i) => `PROXY_ROUTES[${i.path.join(".")}]: ${i.message}`));
  return parsed.data;
}

/** The origins whose scripts may read the paywall's answers (CORS_ORIGINS): `*`, a list of
 *  origins (`https://app.example`), or none (no CORS headers at all). */
export type CorsOrigins = "*" | string[];

function parseCorsOrigins(text: string | undefined): CorsOrigins {
  if (text === undefined) return [];
  if (text === "*") return "*";
  const origins: string[] = [];
  const bad: string[] = [];
  for (const item of text.split(",").map((s) => s.trim())) {
    if (item === "") continue;
    let origin: string | null = null;
    try {
      const url = new URL(item);
      if ((url.protocol === "https:" || url.protocol === "http:") && url.origin === item.toLowerCase())
        origin = url.origin;
    } catch {
      // not a URL: reported below
    }
    if (origin) origins.push(origin);
    else bad.push(JSON.stringify(item));
  }
  if (bad.length > 0)
    throw new ConfigError([
      `CORS_ORIGINS must be * or comma-separated origins like https://app.example (no path), not ${bad.join(", ")}`,
    ]);
  return origins;
}

export interface Config {
  chainId: number;
  rpcUrl: string;
  contract: Address;
  token: Address;
  receiver: PrivateKeyAccount;
  receiverAddress: Address;
  adminToken: string;
  sessionSecret: string;
  minConfirmations: number;
  sessionTtlSeconds: number;
  allowCredit: boolean;
  originUrl?: string;
  originSecret?: string;
  proxyRoutes: ProxyRoute[];
  demoRoutes: boolean;
  deployBlock: bigint;
  withdrawThreshold: bigint;
  syncChunkBlocks: bigint;
  syncMaxChunks: number;
  /** Channel-object calls after which a sync run stops (each a subrequest); the next goes on. */
  syncMaxObjectCalls: number;
  trialSeconds: number;
  freeCapacity: number;
  paidCapacity: number;
  /** False turns the token buckets off (trial routes still keep their trial). */
  flowControl: boolean;
  /** How many leading bits of an IPv6 address name one free client (1-128). */
  flowKeyPrefix: number;
  challengePeriod?: number;
  /** The node strangers' look-ups use (unknown channels, deposit re-reads); else rpcUrl. */
  lookupRpcUrl?: string;
  /** Look-ups per second all strangers together may cause (each about two RPC requests). */
  lookupRate: number;
  /** Where the traffic counters can be read back from Workers Analytics Engine (its SQL API);
   *  absent, they are kept in D1 (src/worker/traffic). */
  analytics?: { accountId: string; apiToken: string; dataset: string };
  /** The 402 page's first balance proof pays this many requests at the route's price ahead. */
  browserPrepayRequests: number;
  /** A channel the 402 page opens holds this many requests at the route's price. */
  browserDepositRequests: number;
  /** Who may read the answers cross-origin: `*`, these origins, or nobody (empty: no CORS headers). */
  corsOrigins: CorsOrigins;
  /** The x402 `exact` offer: the facilitator that verifies and settles it, and the token's
   *  EIP-712 domain its EIP-3009 authorizations are signed over. Absent: `channel` only. */
  x402Exact?: { facilitatorUrl: string; tokenName: string; tokenVersion: string };
  /** How many D1 databases and queues the `channels` projection is spread over (1-64): shard 0 is
   *  DB and PROJECTION, shard i is DB_SHARD_<i> and PROJECTION_<i> (projection/shards.ts). */
  projectionShards: number;
}

/** Thrown when the vars and secrets do not make a valid configuration. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly issues: string[]) {
    super(`edge402 is misconfigured: ${issues.join("; ")}`);
  }
}

/** The most D1 databases (and queues) the projection may be spread over. */
export const MAX_PROJECTION_SHARDS = 64;

/** The bindings shard `i` of the projection reads and writes: shard 0 is the deployment's DB and
 *  PROJECTION, so one shard needs nothing new. */
export function shardBindingNames(i: number): { db: string; queue: string } {
  return i === 0 ? { db: "DB", queue: "PROJECTION" } : { db: `DB_SHARD_${i}`, queue: `PROJECTION_${i}` };
}

const isD1 = (v: unknown) => typeof (v as D1Database | undefined)?.prepare === "function";
const isQueue = (v: unknown) => typeof (v as Queue | undefined)?.send === "function";

/** What is missing for `shards` projection shards: every shard's D1 database and queue producer
 *  (PROJECTION included when there is more than one shard; alone it stays optional). */
function shardBindingIssues(env: Record<string, unknown>, shards: number): string[] {
  if (shards === 1) return [];
  const issues: string[] = [];
  for (let i = 0; i < shards; i++) {
    const { db, queue } = shardBindingNames(i);
    if (!isD1(env[db])) issues.push(`PROJECTION_SHARDS=${shards} needs the D1 binding ${db} (d1_databases)`);
    if (!isQueue(env[queue]))
      issues.push(`PROJECTION_SHARDS=${shards} needs the queue producer binding ${queue} (queues.producers)`);
  }
  return issues;
}

/** What is wrong with the figures that have bounds beyond being decimals. */
function numberIssues(v: z.infer<typeof schema>): string[] {
  return [
    ...(Number(v.FREE_CAPACITY) < 1 ? ["FREE_CAPACITY must be at least 1"] : []),
    ...(Number(v.PAID_CAPACITY) < 1 ? ["PAID_CAPACITY must be at least 1"] : []),
    ...(Number(v.FLOW_KEY_PREFIX) < 1 || Number(v.FLOW_KEY_PREFIX) > 128
      ? ["FLOW_KEY_PREFIX must be from 1 to 128"]
      : []),
    ...(Number(v.LOOKUP_RATE) < 1 ? ["LOOKUP_RATE must be at least 1"] : []),
    // A Workers Paid invocation may make 10,000 subrequests; the run's RPC calls need some too.
    ...(Number(v.SYNC_MAX_OBJECT_CALLS) < 1 || Number(v.SYNC_MAX_OBJECT_CALLS) > 9000
      ? ["SYNC_MAX_OBJECT_CALLS must be from 1 to 9000"]
      : []),
    ...(Number(v.PROJECTION_SHARDS) < 1 || Number(v.PROJECTION_SHARDS) > MAX_PROJECTION_SHARDS
      ? [`PROJECTION_SHARDS must be from 1 to ${MAX_PROJECTION_SHARDS}`]
      : []),
    ...((v.ANALYTICS_ACCOUNT_ID === undefined) !== (v.ANALYTICS_API_TOKEN === undefined)
      ? ["ANALYTICS_ACCOUNT_ID and ANALYTICS_API_TOKEN must be set together (or neither, for D1 traffic counters)"]
      : []),
    ...(Number(v.BROWSER_PREPAY_REQUESTS) < 1 ? ["BROWSER_PREPAY_REQUESTS must be at least 1"] : []),
    ...(Number(v.BROWSER_DEPOSIT_REQUESTS) < Number(v.BROWSER_PREPAY_REQUESTS)
      ? ["BROWSER_DEPOSIT_REQUESTS must be at least BROWSER_PREPAY_REQUESTS"]
      : []),
  ];
}

/** The vars the schema knows, trimmed and checked, or ConfigError listing every problem. */
function parseVars(vars: Record<string, unknown>): z.infer<typeof schema> {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(schema.shape)) {
    const v = vars[key];
    // wrangler passes empty vars as ""; treat them as unset so defaults apply.
    if (typeof v === "string" && v.trim() !== "") raw[key] = v.trim();
    else if (typeof v === "number") raw[key] = String(v);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) =>
        i.message.includes(String(i.path[0])) ? i.message : `${String(i.path[0])}: ${i.message}`,
      ),
    );
  }
  return parsed.data;
}

/** Validates raw vars (strings) into a Config, or throws ConfigError listing every problem. */
export function parseConfig(vars: Record<string, unknown>): Config {
  const v = parseVars(vars);
  const receiver = privateKeyToAccount(v.RECEIVER_PRIVATE_KEY as Hex);
  const minConfirmations = Number(v.MIN_CONFIRMATIONS);
  if (minConfirmations < 1) throw new ConfigError(["MIN_CONFIRMATIONS must be at least 1"]);
  const flowIssues = numberIssues(v);
  if (flowIssues.length > 0) throw new ConfigError(flowIssues);
  const projectionShards = Number(v.PROJECTION_SHARDS);
  const bindingIssues = shardBindingIssues(vars, projectionShards);
  if (bindingIssues.length > 0) throw new ConfigError(bindingIssues);
  return {
    chainId: Number(v.CHAIN_ID),
    rpcUrl: v.RPC_URL,
    contract: getAddress(v.CONTRACT_ADDRESS.toLowerCase()),
    token: getAddress(v.TOKEN_ADDRESS.toLowerCase()),
    receiver,
    receiverAddress: receiver.address,
    adminToken: v.ADMIN_TOKEN,
    sessionSecret: v.SESSION_SECRET,
    minConfirmations,
    sessionTtlSeconds: Number(v.SESSION_TTL_SECONDS),
    allowCredit: v.ALLOW_CREDIT === "true",
    originUrl: v.ORIGIN_URL,
    originSecret: v.ORIGIN_SECRET,
    proxyRoutes: parseProxyRoutes(v.PROXY_ROUTES),
    demoRoutes: v.DEMO_ROUTES === "true",
    deployBlock: BigInt(v.DEPLOY_BLOCK),
    withdrawThreshold: BigInt(v.WITHDRAW_THRESHOLD),
    syncChunkBlocks: BigInt(v.SYNC_CHUNK_BLOCKS),
    syncMaxChunks: Number(v.SYNC_MAX_CHUNKS),
    syncMaxObjectCalls: Number(v.SYNC_MAX_OBJECT_CALLS),
    trialSeconds: Number(v.TRIAL_SECONDS),
    freeCapacity: Number(v.FREE_CAPACITY),
    paidCapacity: Number(v.PAID_CAPACITY),
    flowControl: v.FLOW_CONTROL === "true",
    flowKeyPrefix: Number(v.FLOW_KEY_PREFIX),
    challengePeriod: v.CHALLENGE_PERIOD === undefined ? undefined : Number(v.CHALLENGE_PERIOD),
    lookupRpcUrl: v.LOOKUP_RPC_URL,
    lookupRate: Number(v.LOOKUP_RATE),
    analytics:
      v.ANALYTICS_ACCOUNT_ID && v.ANALYTICS_API_TOKEN
        ? { accountId: v.ANALYTICS_ACCOUNT_ID, apiToken: v.ANALYTICS_API_TOKEN, dataset: v.ANALYTICS_DATASET }
        : undefined,
    browserPrepayRequests: Number(v.BROWSER_PREPAY_REQUESTS),
    browserDepositRequests: Number(v.BROWSER_DEPOSIT_REQUESTS),
    corsOrigins: parseCorsOrigins(v.CORS_ORIGINS),
    x402Exact: exactOffer(v),
    projectionShards,
  };
}

/** The `exact` offer's settings: all three vars, or none of them. */
function exactOffer(v: z.infer<typeof schema>): Config["x402Exact"] {
  const { X402_FACILITATOR_URL: facilitatorUrl, X402_TOKEN_NAME: tokenName, X402_TOKEN_VERSION: tokenVersion } = v;
  if (facilitatorUrl === undefined && tokenName === undefined && tokenVersion === undefined) return undefined;
  if (facilitatorUrl === undefined || tokenName === undefined || tokenVersion === undefined) {
    throw new ConfigError([
      "X402_FACILITATOR_URL, X402_TOKEN_NAME and X402_TOKEN_VERSION (the token's EIP-712 domain) go together: set all three or none",
    ]);
  }
  return { facilitatorUrl: facilitatorUrl.replace(/\/+$/, ""), tokenName, tokenVersion };
}

const cache = new WeakMap<object, Config>();

/** The Config for this env, parsed once per isolate (env objects are stable per isolate). */
export function getConfig(env: object): Config {
  let config = cache.get(env);
  if (!config) {
    config = parseConfig(env as Record<string, unknown>);
    cache.set(env, config);
  }
  return config;
}

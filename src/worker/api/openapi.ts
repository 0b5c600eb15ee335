// The OpenAPI 3.1 document of the API under /api/1 (GET /api/1/openapi.json), assembled from the
// zod schemas the routes are described with, never written by hand. A route's description sits
// beside its handler: `documented(doc, handler)` attaches it to the handler function, and the
// document lists exactly the routes the Hono app has (the handler Hono holds for a mounted route
// is the one registered), so a library user's app documents what it mounts and nothing else.
// zod's own `toJSONSchema` turns each schema into JSON Schema 2020-12, which OpenAPI 3.1 uses.
import type { Context, Handler } from "hono";
import * as z from "zod/mini";
import { errorStatus, type ErrorCode } from "../../protocol/errors.js";
import { GATEWAY_PATH } from "../../protocol/headers.js";
import type { Env } from "../env.js";

type Schema = z.ZodMiniType;
type ObjectSchema = z.ZodMiniObject;

/** What the document says about one route: its inputs and answers, as zod schemas. */
export type RouteDoc = {
  summary: string;
  /** The group it is listed in; default `admin` under /api/1/admin, else `management`. */
  tag?: string;
  description?: string;
  /** The path parameters (`:name` in the Hono path). */
  params?: ObjectSchema;
  query?: ObjectSchema;
  /** Request headers the route reads. */
  headers?: ObjectSchema;
  /** The JSON request body. */
  body?: Schema;
  /** The 200 answer: its JSON body's schema, or the media type of a body that is not JSON. */
  ok: Schema | { mediaType: string; description: string };
  /** The error codes the route answers with (each with its protocol status). */
  errors?: ErrorCode[];
};

type AnyHandler = Handler<{ Bindings: Env }> | ((c: Context<{ Bindings: Env }>) => unknown);

const docs = new WeakMap<object, RouteDoc>();

/**
 * Attaches `doc` to `handler` and returns the handler, for `api.get(path, documented(doc, handler))`.
 *
 * @example
 * ```ts
 * api.get("/earnings", documented({ summary: "Earnings", ok: earningsSchema }, earnings));
 * ```
 */
export function documented<H extends AnyHandler>(doc: RouteDoc, handler: H): H {
  docs.set(handler, doc);
  return handler;
}

/** The description of the route whose (last) handler is `handler`, if it has one. */
function routeDoc(handler: unknown): RouteDoc | undefined {
  return typeof handler === "function" ? docs.get(handler) : undefined;
}

/** The error body every refusal has. */
const errorBody = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});

/** An unsigned integer token amount in base units, as a decimal string. */
export const amount = z.string().check(z.regex(/^[0-9]+$/));
/** An Ethereum address (0x and 40 hex digits). */
export const address = z.string().check(z.regex(/^0x[0-9a-fA-F]{40}$/));

function jsonSchema(schema: Schema, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<string, unknown>;
  return rest;
}

function parameters(where: "path" | "query" | "header", schema: ObjectSchema | undefined) {
  if (!schema) return [];
  const json = jsonSchema(schema, "input") as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === "path" || (json.required ?? []).includes(name),
    schema: s,
  }));
}

function operation(doc: RouteDoc, tag: string, admin: boolean) {
  const ok =
    "mediaType" in doc.ok
      ? { description: doc.ok.description, content: { [doc.ok.mediaType]: { schema: { type: "string" } } } }
      : { description: "OK", content: { "application/json": { schema: jsonSchema(doc.ok, "output") } } };
  const responses: Record<string, unknown> = { "200": ok };
  const codes: ErrorCode[] = [...(admin ? (["unauthorized"] as const) : []), ...(doc.errors ?? [])];
  for (const code of codes) {
    const status = String(errorStatus[code]);
    const seen = responses[status] as { description: string } | undefined;
    responses[status] = {
      description: seen ? `${seen.description}, ${code}` : code,
      content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
    };
  }
  return {
    tags: [tag],
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    parameters: [
      ...parameters("path", doc.params),
      ...parameters("query", doc.query),
      ...parameters("header", doc.headers),
    ],
    ...(doc.body
      ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(doc.body, "input") } } } }
      : {}),
    ...(admin ? { security: [{ adminToken: [] }] } : {}),
    responses,
  };
}

/** A route of a Hono app as `app.routes` lists it. */
type AppRouteEntry = { method: string; path: string; handler: unknown };

/**
 * The OpenAPI 3.1 document of the app's routes under `/api/1` that carry a `documented` description
 * (`:name` path parameters become `{name}`; routes under `/api/1/admin` need the admin token).
 *
 * @param routes - The app's routes (`app.routes`); middleware (`ALL`) is skipped.
 */
export function openApiDocument(routes: readonly AppRouteEntry[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const doc = routeDoc(r.handler);
    if (!doc || r.method === "ALL" || !r.path.startsWith(`${GATEWAY_PATH}/`)) continue;
    const admin = r.path.startsWith(`${GATEWAY_PATH}/admin/`);
    const path = r.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = operation(doc, doc.tag ?? (admin ? "admin" : "management"), admin);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "edge402 management and admin API",
      version: "1",
      description: "Generated from the zod schemas of the routes. Amounts are token base units as decimal strings.",
    },
    paths,
    components: {
      schemas: { Error: jsonSchema(errorBody, "output") },
      securitySchemes: { adminToken: { type: "http", scheme: "bearer", description: "The ADMIN_TOKEN secret." } },
    },
  };
}

// GET /api/1/openapi.json on the real Worker: served without the admin token, and what the real
// routes answer conforms to the 200 schemas it publishes (every field typed as documented, no
// field the document leaves out), so the document cannot drift from the code unnoticed.
import { env, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { channelStub } from "../../src/worker/channel/stub.js";
import { adminToken, freshAccount, openChannel, pay, request } from "./helpers.js";

type JsonSchema = {
  type?: string | string[];
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
};

/** Where `value` breaks `schema` (the JSON Schema keywords zod's toJSONSchema writes), as paths. */
function violations(schema: JsonSchema, value: unknown, at = "$"): string[] {
  if (schema.anyOf) {
    const each = schema.anyOf.map((s) => violations(s, value, at));
    return each.some((v) => v.length === 0) ? [] : each.flat();
  }
  const kind = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
  const types = schema.type === undefined ? [] : [schema.type].flat();
  if (types.length && !types.some((t) => t === kind || (t === "integer" && Number.isInteger(value))))
    return [`${at}: ${kind} is not ${types.join("|")}`];
  if (schema.enum && !schema.enum.includes(value)) return [`${at}: ${String(value)} is not one of ${schema.enum}`];
  if ("const" in schema && schema.const !== value) return [`${at}: ${String(value)} is not ${String(schema.const)}`];
  if (schema.pattern && typeof value === "string" && !new RegExp(schema.pattern).test(value))
    return [`${at}: ${value} does not match ${schema.pattern}`];
  if (kind === "array" && schema.items)
    return (value as unknown[]).flatMap((v, i) => violations(schema.items!, v, `${at}[${i}]`));
  if (kind !== "object") return [];
  const object = value as Record<string, unknown>;
  const props = schema.properties ?? {};
  return [
    ...(schema.required ?? []).filter((k) => !(k in object)).map((k) => `${at}.${k}: missing`),
    ...Object.entries(object).flatMap(([k, v]) => {
      if (props[k]) return violations(props[k], v, `${at}.${k}`);
      if (schema.additionalProperties === false) return [`${at}.${k}: not in the document`];
      return typeof schema.additionalProperties === "object"
        ? violations(schema.additionalProperties, v, `${at}.${k}`)
        : [];
    }),
  ];
}

type Document = {
  openapi: string;
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: JsonSchema }> }> }>
  >;
};

describe("GET /api/1/openapi.json", () => {
  it("is served as JSON without the admin token and lists the Worker's admin and management routes", async () => {
    const res = await request("/api/1/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const doc = (await res.json()) as Document;
    expect(doc.openapi).toBe("3.1.0");
    for (const path of [
      "/api/1/stats",
      "/api/1/channels/{sender}/{openBlock}",
      "/api/1/admin/sync",
      "/api/1/openapi.json",
    ])
      expect(Object.keys(doc.paths)).toContain(path);
  });

  it("describes what the routes really answer", async () => {
    const doc = (await (await request("/api/1/openapi.json")).json()) as Document;
    const a = await freshAccount();
    const ch = await openChannel(a, 100n);
    expect((await pay(a, ch.openBlock, 5n)).status).toBe(200);
    await runDurableObjectAlarm(channelStub(env, a.address, ch.openBlock));
    const channel = `${a.address}/${ch.openBlock}`;
    const calls: Array<[string, string]> = [
      ["/api/1/stats", "/api/1/stats"],
      ["/api/1/pricing", "/api/1/pricing"],
      [`/api/1/channels/${channel}`, "/api/1/channels/{sender}/{openBlock}"],
      ["/api/1/token", "/api/1/token"],
      [`/api/1/admin/channels?sender=${a.address}`, "/api/1/admin/channels"],
      [`/api/1/admin/channels/${channel}`, "/api/1/admin/channels/{sender}/{openBlock}"],
      ["/api/1/admin/earnings", "/api/1/admin/earnings"],
      ["/api/1/admin/sync", "/api/1/admin/sync"],
      [`/api/1/admin/traffic?from=${Date.now() - 10 * 60_000}`, "/api/1/admin/traffic"],
      ["/api/1/admin/projection?minutes=10", "/api/1/admin/projection"],
    ];
    for (const [url, path] of calls) {
      const res = await request(url, { headers: { authorization: `Bearer ${adminToken}` } });
      expect(res.status, url).toBe(200);
      const schema = doc.paths[path]!.get!.responses["200"]!.content!["application/json"]!.schema;
      expect(violations(schema, await res.json()), url).toEqual([]);
    }
  });

  it("the conformance check catches a field the document leaves out and a wrong type", () => {
    const schema: JsonSchema = {
      type: "object",
      properties: { n: { type: "number" }, s: { anyOf: [{ type: "string" }, { type: "null" }] } },
      required: ["n"],
      additionalProperties: false,
    };
    expect(violations(schema, { n: 1, s: null })).toEqual([]);
    expect(violations(schema, { n: "1", extra: true })).toEqual([
      "$.n: string is not number",
      "$.extra: not in the document",
    ]);
  });
});

// The OpenAPI document: a valid OpenAPI 3.1 document that lists every route the Worker's app has
// under /api/1 (taken from the app itself, so a route added without a description fails here),
// with each route's path parameters and the admin token on the admin routes.
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { GATEWAY_PATH } from "../../protocol/headers.js";
import { createApp } from "../app.js";
import { demoRoutes } from "../demo.js";
import { settlementAdmin } from "../settlement/admin.js";
import { openApiDocument } from "./openapi.js";

// The Worker's own app (src/worker/worker.ts): the demo routes and the settlement actions.
const app = createApp({ routes: demoRoutes, admin: settlementAdmin });
const doc = openApiDocument(app.routes);
const apiRoutes = app.routes.filter((r) => r.method !== "ALL" && r.path.startsWith(`${GATEWAY_PATH}/`));
const asOpenApi = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");

type Operation = {
  parameters: Array<{ name: string; in: string }>;
  security?: unknown[];
  responses: Record<string, unknown>;
};
const operation = (method: string, path: string) =>
  (doc.paths[asOpenApi(path)] as Record<string, Operation> | undefined)?.[method.toLowerCase()];

describe("GET /api/1/openapi.json", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const result = await new Validator().validate(JSON.parse(JSON.stringify(doc)));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toMatch(/^3\.1\./);
  });

  it("documents every route the app has under /api/1, and nothing it does not have", () => {
    expect(apiRoutes.length).toBeGreaterThan(10);
    const undocumented = apiRoutes.filter((r) => !operation(r.method, r.path)).map((r) => `${r.method} ${r.path}`);
    expect(undocumented).toEqual([]);
    const listed = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(listed.sort()).toEqual([...new Set(apiRoutes.map((r) => `${r.method} ${asOpenApi(r.path)}`))].sort());
  });

  it("names each path parameter, and asks for the admin token on the admin routes only", () => {
    for (const r of apiRoutes) {
      const op = operation(r.method, r.path)!;
      const names = [...r.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]);
      expect(op.parameters.filter((p) => p.in === "path").map((p) => p.name)).toEqual(names);
      const admin = r.path.startsWith(`${GATEWAY_PATH}/admin/`);
      expect(op.security !== undefined, `${r.method} ${r.path}`).toBe(admin);
      const unauthorized = (op.responses["401"] as { description?: string } | undefined)?.description ?? "";
      expect(unauthorized.includes("unauthorized")).toBe(admin);
    }
  });

  it("lists a route a library user adds to the admin API only with its description", () => {
    const bare = createApp({ routes: [], admin: (api) => api.get("/extra", (c) => c.json({})) });
    const paths = Object.keys(openApiDocument(bare.routes).paths);
    expect(paths).not.toContain(`${GATEWAY_PATH}/admin/extra`);
    expect(paths).toContain(`${GATEWAY_PATH}/admin/earnings`);
    expect(paths).not.toContain(`${GATEWAY_PATH}/admin/sync`);
  });
});

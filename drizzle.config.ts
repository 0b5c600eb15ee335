// drizzle-kit configuration: `npx drizzle-kit generate` turns src/worker/db/schema.ts into
// the flat SQL migrations under migrations/ that wrangler and the tests apply to D1.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./src/worker/db/schema.ts",
  out: "./migrations",
});

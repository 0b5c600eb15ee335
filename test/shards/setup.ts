// Runs inside workerd before each `shards` test file: applies the D1 migrations to every shard's
// database (each shard gets the same schema; storage is isolated per test file).
import { applyD1Migrations, env } from "cloudflare:test";
import { shardDbs } from "./helpers.js";

for (const db of shardDbs) await applyD1Migrations(db, env.TEST_MIGRATIONS);

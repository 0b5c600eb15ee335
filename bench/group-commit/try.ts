import { unstable_startWorker } from "wrangler";
const worker = await unstable_startWorker({
  config: "bench/group-commit/wrangler.jsonc",
  dev: { server: { port: 0 }, inspector: false, persist: `/tmp/gc-persist-${process.pid}`, logLevel: "warn" } as never,
});
await worker.ready;
for (const [kind, c] of [
  ["echo", 64],
  ["proof", 64],
  ["echo", 64],
  ["proof", 64],
] as const) {
  const res = await worker.fetch(`http://x/?payments=5000&concurrency=${c}&kind=${kind}`);
  console.log(await res.text());
}
await worker.dispose();

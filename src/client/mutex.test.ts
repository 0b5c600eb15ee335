import { describe, expect, it } from "vitest";
import { KeyedMutex, Mutex } from "./mutex.js";

const tick = () => new Promise((r) => setTimeout(r, 1));

describe("Mutex", () => {
  it("runs sections one at a time, in call order", async () => {
    const m = new Mutex();
    const log: string[] = [];
    let inside = 0;
    await Promise.all(
      [3, 1, 2].map((n) =>
        m.run(async () => {
          inside++;
          expect(inside).toBe(1);
          log.push(`start ${n}`);
          for (let i = 0; i < n; i++) await tick();
          log.push(`end ${n}`);
          inside--;
        }),
      ),
    );
    expect(log).toEqual(["start 3", "end 3", "start 1", "end 1", "start 2", "end 2"]);
  });

  it("a failing section rejects its caller only", async () => {
    const m = new Mutex();
    const failed = m.run(async () => {
      throw new Error("boom");
    });
    const next = m.run(async () => 42);
    await expect(failed).rejects.toThrow("boom");
    expect(await next).toBe(42);
  });
});

describe("KeyedMutex", () => {
  it("serialises per key, runs keys in parallel, and forgets idle keys", async () => {
    const m = new KeyedMutex();
    const log: string[] = [];
    const slow = (key: string, name: string) =>
      m.run(key, async () => {
        log.push(`start ${name}`);
        await tick();
        await tick();
        log.push(`end ${name}`);
      });
    await Promise.all([slow("a", "a1"), slow("a", "a2"), slow("b", "b1")]);
    expect(log.indexOf("start b1")).toBeLessThan(log.indexOf("end a1"));
    expect(log.indexOf("end a1")).toBeLessThan(log.indexOf("start a2"));
    expect(m.size).toBe(0);
  });
});

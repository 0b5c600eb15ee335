// Async mutual exclusion, because choosing a channel, reserving a balance and signing it must
// happen for one request at a time per receiver, and one wallet must not send two transactions
// at once (nonces).

/** Runs async critical sections one at a time, first come first served. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `fn` once every earlier section has finished; resolves or rejects with it. */
  run<T>(fn: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(() => fn());
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/** One `Mutex` per key, dropped when nothing waits on it. */
export class KeyedMutex {
  private readonly queues = new Map<string, { mutex: Mutex; users: number }>();

  run<T>(key: string, fn: () => Promise<T> | T): Promise<T> {
    let entry = this.queues.get(key);
    if (!entry) {
      entry = { mutex: new Mutex(), users: 0 };
      this.queues.set(key, entry);
    }
    entry.users++;
    const held = entry;
    return held.mutex.run(fn).finally(() => {
      held.users--;
      if (held.users === 0 && this.queues.get(key) === held) this.queues.delete(key);
    });
  }

  /** How many keys have sections running or waiting (for tests). */
  get size(): number {
    return this.queues.size;
  }
}

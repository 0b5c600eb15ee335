// Group commit for one Durable Object: the object decides every call at once, in arrival order,
// on its in-memory state, and writes that state through here. While one write is on its way to
// durable storage, the calls that arrive are decided but not written; the next write holds all
// of them (the whole state as it then stands), and each caller's reply waits for the write that
// holds its decision (`settled()`). One storage commit so carries every payment that arrived
// while the last one was in flight, however many, and no reply is released before its write is
// durable. The output gate alone would not keep that promise here: it holds replies until the
// writes already issued are durable, and a decision taken while a write is in flight is issued
// later, so the caller waits for it explicitly.

/** How often the object wrote, and how many decisions the writes carried. */
export type CommitStats = { writes: number; decisions: number };

export class GroupCommit {
  private inFlight: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private writes = 0;
  private decisions = 0;

  /**
   * @param write - Writes the object's whole current state (synchronous SQL, one statement).
   * @param durable - Resolves once every write issued so far is durable (`ctx.storage.sync()`).
   * @param failed - Called once when a write or its commit fails: the in-memory state is then
   *   ahead of storage, and the object must start again from storage (`ctx.abort()`).
   */
  constructor(
    private readonly write: () => void,
    private readonly durable: () => Promise<void>,
    private readonly failed: (err: unknown) => void,
  ) {}

  /** Records one decision to write: written now when no write is in flight, else with the next. */
  commit(): void {
    this.decisions++;
    if (this.queued) return;
    if (!this.inFlight) {
      this.start();
      return;
    }
    this.queued = this.inFlight.then(() => {
      this.queued = null;
      return this.start();
    });
    this.queued.catch(() => {});
  }

  /** Resolves once every decision recorded so far is durable; rejects if its write failed. */
  settled(): Promise<void> {
    return this.queued ?? this.inFlight ?? Promise.resolve();
  }

  stats(): CommitStats {
    return { writes: this.writes, decisions: this.decisions };
  }

  private start(): Promise<void> {
    try {
      this.write();
    } catch (err) {
      this.failed(err);
      throw err;
    }
    this.writes++;
    const flight: Promise<void> = this.durable().then(
      () => {
        if (this.inFlight === flight) this.inFlight = null;
      },
      (err: unknown) => {
        this.failed(err);
        throw err;
      },
    );
    flight.catch(() => {});
    this.inFlight = flight;
    return flight;
  }
}

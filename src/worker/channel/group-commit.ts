// Group commit for one Durable Object: the object decides every call at once, in arrival order,
// on its in-memory state, and writes that state through here. While one write is on its way to
// durable storage, the calls that arrive are decided but not written; the next write holds all
// of them (the whole state as it then stands). One storage commit so carries every payment that
// arrived while the last one was in flight, however many, and no reply is released before its
// write is durable:
// - a call whose decision is in a write already issued (the one it started, or one in flight)
//   returns at once, and the output gate holds its reply until every write issued before it is
//   durable (workerd waits for the actor's output locks before sending an RPC call's result:
//   src/workerd/api/worker-rpc.c++; "output gate" in the Durable Objects glossary);
// - a call decided while a write is in flight waits (`unissued()`) for the write that holds it:
//   the output gate alone would release its reply when the earlier write is durable.
// Returning at once matters: every call that waits costs the runtime a second entry into the
// object (measured in docs/scale.md), so only the calls that must wait do.
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

  /** The wait of a reply whose decision is not in an issued write yet (the write that will hold
   *  it, until durable), or null when every decision so far is in an issued write (the output
   *  gate then holds the reply). */
  unissued(): Promise<void> | null {
    return this.queued;
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

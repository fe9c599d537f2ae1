/**
 * The attempts that must not overlap across runs, by org: this run's attempts running
 * now, and earlier runs' attempts still running (an abandoned run's handler may outlive
 * it). A successor run waits for both before it starts that org, so two handlers of one
 * org never run at once. Holds promises only, never the runs themselves, so old runs do
 * not stay reachable link by link.
 */
export class AttemptHandover {
  // Attempts of this run running now, by org.
  private readonly running = new Map<string, Promise<unknown>>();
  // Earlier runs' attempts still running, by org; an entry goes once its attempt settled.
  private readonly earlier = new Map<string, Promise<void>>();

  /** `earlier`: the previous run's {@link stillRunning} attempts. */
  constructor(earlier: ReadonlyMap<string, Promise<unknown>>) {
    for (const [key, attempt] of earlier) this.holdBack(key, attempt);
  }

  /** Settles once no earlier run's attempt of this org is running; undefined when none is. */
  earlierOf(key: string): Promise<void> | undefined {
    return this.earlier.get(key);
  }

  started(key: string, attempt: Promise<unknown>): void {
    this.running.set(key, attempt);
  }

  settled(key: string, attempt: Promise<unknown>): void {
    if (this.running.get(key) === attempt) this.running.delete(key);
  }

  /** What a successor must wait for, by org. A snapshot: the successor never holds this object. */
  stillRunning(): Map<string, Promise<unknown>> {
    const handed = new Map<string, Promise<unknown>>(this.earlier);
    for (const [key, attempt] of this.running) {
      const older = handed.get(key);
      handed.set(key, older ? Promise.allSettled([older, attempt]) : attempt);
    }
    return handed;
  }

  private holdBack(key: string, attempt: Promise<unknown>): void {
    const settled = attempt.then(
      () => undefined,
      () => undefined,
    );
    this.earlier.set(key, settled);
    void settled.then(() => {
      if (this.earlier.get(key) === settled) this.earlier.delete(key);
    });
  }
}

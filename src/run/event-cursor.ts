/**
 * The two positions in the event log. `fetched` is the highest id fetched (the next
 * poll asks for ids after it); `completed` is the low-watermark: every event at or
 * below it succeeded or was parked. Incremental events arrive in ascending id order,
 * so the outstanding ids form a queue whose head bounds the watermark.
 */
export class EventCursor {
  private fetchedId = 0;
  private completedId = 0;
  private readonly outstanding = new Set<number>();
  private order: number[] = [];
  private head = 0;
  // While a replay snapshot is being handled, nothing in the log is known to be done.
  private replayPending = false;
  // Orgs whose dropped events await recovery from a snapshot: the watermark stays below them.
  private readonly holds = new Map<string, number>();
  private epochValue = 0;

  /** Bumped by every reset(): events queued under an older epoch no longer count. */
  get epoch(): number {
    return this.epochValue;
  }

  /** Highest event id fetched. */
  get fetched(): number {
    return this.fetchedId;
  }

  /** Every event at or below this id is done or parked (0 until the replay is handled). */
  get completed(): number {
    if (this.replayPending) return 0;
    let completed = this.completedId;
    for (const id of this.holds.values()) completed = Math.min(completed, id - 1);
    return Math.max(completed, 0);
  }

  /** Keeps the watermark below `id` until {@link release}(key): events of `key` from `id` on await recovery. */
  hold(key: string, id: number): void {
    const current = this.holds.get(key);
    if (current === undefined || id < current) this.holds.set(key, id);
  }

  release(key: string): void {
    this.holds.delete(key);
  }

  /**
   * Starts over at a replay's `lastEventId`. The watermark reads 0 until
   * {@link replayHandled}: the snapshot stands for every id up to lastEventId.
   */
  reset(lastEventId: number): void {
    this.epochValue += 1;
    this.holds.clear();
    this.replayPending = true;
    this.fetchedId = lastEventId;
    this.completedId = lastEventId;
    this.outstanding.clear();
    this.order = [];
    this.head = 0;
  }

  /** Every event of the replay snapshot is done or parked. */
  replayHandled(): void {
    this.replayPending = false;
  }

  /** Records a fetched page: its queued ids are outstanding until finished. */
  fetchedThrough(lastEventId: number, queuedIds: readonly number[]): void {
    for (const id of queuedIds) {
      this.outstanding.add(id);
      this.order.push(id);
    }
    this.fetchedId = Math.max(this.fetchedId, lastEventId);
    this.advance();
  }

  /** Marks an incremental event done or parked. */
  finished(id: number): void {
    if (this.outstanding.delete(id)) this.advance();
  }

  private advance(): void {
    while (this.head < this.order.length && !this.outstanding.has(this.order[this.head])) this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
    const next = this.head < this.order.length ? this.order[this.head] - 1 : this.fetchedId;
    this.completedId = Math.max(this.completedId, next);
  }
}

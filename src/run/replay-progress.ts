import type { TenancyLogger } from '../telemetry/tenancy-logger.js';
import type { ReplayProgressSnapshot } from '../tenancy-status.js';


const LOG_EVERY_MS = 5_000;
const LOG_EVERY_FRACTION = 0.1;
/** Progress lines only once a replay has run this long: short ones get just the final line. */
const QUIET_FOR_MS = 5_000;

/**
 * Counts replayed events as they finish (done or parked) and, once a replay has run
 * for 5 s, logs progress every 10% or 5 s with rate and ETA, so a 100k-event replay
 * is not a silent minute. The final "handled" line is always logged. A progress of a
 * run that ended is a dead end: `live()` false silences it.
 */
export class ReplayProgress {
  private handled = 0;
  private readonly started = Date.now();
  private finished: number | null = null;
  private lastLogAt = this.started;
  private nextFraction = LOG_EVERY_FRACTION;

  constructor(
    readonly total: number,
    private readonly what: 'replay' | 'resync',
    private readonly logger: TenancyLogger,
    private readonly onDone: (seconds: number) => void,
    private readonly live: () => boolean = () => true,
  ) {
    if (total === 0) this.finish();
  }

  /** One replayed event is done or parked. */
  readonly handledOne = (): void => {
    if (!this.live() || this.finished !== null) return;
    this.handled += 1;
    if (this.handled >= this.total) return this.finish();
    const now = Date.now();
    if (now - this.started < QUIET_FOR_MS) return;
    if (this.handled / this.total >= this.nextFraction || now - this.lastLogAt >= LOG_EVERY_MS) {
      while (this.handled / this.total >= this.nextFraction) this.nextFraction += LOG_EVERY_FRACTION;
      this.lastLogAt = now;
      const elapsed = Math.max(now - this.started, 1) / 1000;
      const rate = this.handled / elapsed;
      const eta = (this.total - this.handled) / Math.max(rate, 1e-9);
      this.logger.log(
        `${this.what} progress: ${this.handled}/${this.total} handled (${Math.floor((100 * this.handled) / this.total)}%), ${Math.round(rate)} events/s, ETA ${Math.ceil(eta)} s`,
        { handled: this.handled, total: this.total, rate: Math.round(rate), etaSeconds: Math.ceil(eta) },
      );
    }
  };

  snapshot(): ReplayProgressSnapshot {
    return {
      total: this.total,
      handled: this.handled,
      startedAt: new Date(this.started),
      finishedAt: this.finished === null ? null : new Date(this.finished),
    };
  }

  private finish(): void {
    if (this.finished !== null) return;
    this.finished = Date.now();
    const seconds = (this.finished - this.started) / 1000;
    this.logger.log(`${this.what} handled: ${this.total} event(s) in ${seconds.toFixed(2)} s`);
    this.onDone(seconds);
  }
}

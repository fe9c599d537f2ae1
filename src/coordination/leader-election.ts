import type { LogFields, TenancyLogger } from '../telemetry/tenancy-logger.js';
import { settleWithin } from '../common/deadline.js';
import { coordinatorCallHung } from '../tenancy.messages.js';
import { COORDINATOR_DEFAULTS } from './coordination.options.js';
import type { TenancyCoordinator } from './tenancy-coordinator.js';

/** What the election drives: start following on winning, stop at once on losing. */
export interface LeadershipCallbacks {
  /** This replica became the leader. */
  elected(): void;
  /** Leadership is gone: stop fetching, abort handlers, stop writing status. Resolves when the old work has settled. */
  lost(reason: string): Promise<void>;
}

/**
 * The election loop around a {@link TenancyCoordinator}: try to acquire every
 * retryPeriod while standing by; renew every retryPeriod while leading, and give up
 * once renewals have failed for renewDeadline (before the lease could pass to
 * another replica, so two leaders never overlap).
 */
export class LeaderElection {
  private leading = false;
  private running = false;
  // Each start() begins a new generation: a call that returns for an older one
  // (after stop() gave up waiting for it) must not make this replica the leader.
  private generation = 0;
  private stopRequested = false;
  private timer?: NodeJS.Timeout;
  // Fires renewDeadline after the start of the last successful acquire/renew, even
  // while a renew call hangs: leadership must end before the lease can pass on.
  private deadlineTimer?: NodeJS.Timeout;
  private wake?: () => void;
  private loop?: Promise<void>;
  private losing?: Promise<void>;
  /** Time of the last acquire or renew attempt, for liveness. */
  lastAttemptAt: number | null = null;
  private readonly retryPeriod: number;
  private readonly renewDeadline: number;

  constructor(
    private readonly coordinator: TenancyCoordinator,
    private readonly callbacks: LeadershipCallbacks,
    private readonly logger: TenancyLogger,
  ) {
    this.retryPeriod = coordinator.retryPeriod ?? COORDINATOR_DEFAULTS.retryPeriod;
    this.renewDeadline = coordinator.renewDeadline ?? COORDINATOR_DEFAULTS.renewDeadline;
    coordinator.onLost?.(() => {
      if (this.leading) void this.lose('the coordinator reported the leadership lost');
    });
  }

  get isLeader(): boolean {
    return this.leading;
  }

  get identity(): string {
    return this.coordinator.identity;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopRequested = false;
    this.generation += 1;
    this.loop = this.run(this.generation);
  }

  /**
   * Ends the election. When leading, `beforeRelease` drains the work first while
   * the loop keeps renewing (so the lease cannot pass on mid-drain), then the lease
   * is released so a standby takes over at once.
   */
  async stop(beforeRelease: () => Promise<void>): Promise<void> {
    if (!this.running) return;
    this.stopRequested = true;
    if (this.leading) await beforeRelease();
    this.running = false;
    clearTimeout(this.timer);
    this.wake?.();
    // A coordinator call may hang (custom implementations need not time out):
    // shutdown waits for it at most renewDeadline.
    if ((await settleWithin(this.loop ?? Promise.resolve(), this.renewDeadline)) === 'expired') {
      this.logger.warn(coordinatorCallHung('acquire/renew', this.renewDeadline), this.fields());
    }
    this.generation += 1; // whatever the abandoned call returns now is stale
    await this.losing;
    clearTimeout(this.deadlineTimer);
    if (!this.leading) return;
    this.leading = false;
    const release = this.coordinator.release();
    const outcome = await settleWithin(release, this.renewDeadline);
    if (outcome === 'expired') {
      this.logger.warn(coordinatorCallHung('release', this.renewDeadline), this.fields());
      return;
    }
    try {
      await release;
      this.logger.log(`released leadership (${this.identity})`, this.fields());
    } catch (error) {
      this.logger.warn(`could not release leadership: ${(error as Error).message}`, this.fields());
    }
  }

  private async run(generation: number): Promise<void> {
    const current = () => this.running && generation === this.generation;
    while (current()) {
      await this.losing;
      if (!current()) return;
      this.lastAttemptAt = Date.now();
      if (this.leading) await this.renewOnce();
      else await this.acquireOnce(generation);
      if (!current()) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, this.retryPeriod);
      });
    }
  }

  private async acquireOnce(generation: number): Promise<void> {
    const attemptStarted = performance.now();
    let won = false;
    try {
      won = await this.coordinator.acquire();
    } catch (error) {
      this.logger.debug(`leadership acquire failed: ${(error as Error).message}`, this.fields());
    }
    if (!won) return;
    if (generation !== this.generation) {
      // stop() stopped waiting for this call: hand the lease straight back, unless
      // a newer generation already leads with it (same identity, same lease).
      if (!this.leading) await this.coordinator.release().catch(() => undefined);
      return;
    }
    this.leading = true;
    // Won while shutting down: keep the flag so stop() releases the lease, start nothing.
    if (this.stopRequested || !this.running) return;
    this.renewedAt(attemptStarted);
    if (!this.leading) return;
    this.logger.log(`became the leader (${this.identity})`, this.fields());
    this.callbacks.elected();
  }

  private async renewOnce(): Promise<void> {
    const attemptStarted = performance.now();
    let renewed: boolean;
    try {
      renewed = await this.coordinator.renew();
    } catch (error) {
      // Transient (timeout, server error): retried until renewDeadline.
      if (this.leading) this.logger.debug(`leadership renew failed (${(error as Error).message}); retrying`, this.fields());
      return;
    }
    if (!this.leading) return; // the deadline passed while the call was out
    if (renewed) this.renewedAt(attemptStarted);
    // A refusal is an answer, not a failure: the lease is gone or another replica holds it.
    else void this.lose('the renewal was refused (the lease is gone or held by another replica)');
  }

  /**
   * Counts the lease as extended from when the attempt started, the safe side. On the
   * monotonic clock: a wall-clock step must not stretch our leadership.
   */
  private renewedAt(attemptStarted: number): void {
    clearTimeout(this.deadlineTimer);
    const remaining = attemptStarted + this.renewDeadline - performance.now();
    const expire = () =>
      void this.lose(`no successful renewal for renewDeadline (${this.renewDeadline} ms)`);
    if (remaining <= 0) expire();
    else this.deadlineTimer = setTimeout(expire, remaining);
  }

  private lose(reason: string): Promise<void> {
    clearTimeout(this.deadlineTimer);
    this.losing ??= (async () => {
      this.leading = false;
      this.logger.warn(`lost leadership (${this.identity}): ${reason}; standing by`, this.fields());
      await this.callbacks.lost(reason);
    })().finally(() => {
      this.losing = undefined;
    });
    return this.losing;
  }

  private fields(): LogFields {
    return { identity: this.identity, leader: this.leading };
  }
}

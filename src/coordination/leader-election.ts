import type { Logger } from '@nestjs/common';
import type { TenancyCoordinator } from './tenancy-coordinator.js';

const DEFAULT_RETRY_PERIOD = 2_000;
const DEFAULT_RENEW_DEADLINE = 10_000;

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
  private lastRenewed = 0;
  private timer?: NodeJS.Timeout;
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
    private readonly logger: Logger,
    private readonly controller: string,
  ) {
    this.retryPeriod = coordinator.retryPeriod ?? DEFAULT_RETRY_PERIOD;
    this.renewDeadline = coordinator.renewDeadline ?? DEFAULT_RENEW_DEADLINE;
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
    this.loop = this.run();
  }

  /** Ends the loop; when leading, `beforeRelease` drains the work, then the lease is released. */
  async stop(beforeRelease: () => Promise<void>): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
    await this.losing;
    if (!this.leading) return;
    await beforeRelease();
    this.leading = false;
    try {
      await this.coordinator.release();
      this.logger.log(`[${this.controller}] released leadership (${this.identity})`, this.fields());
    } catch (error) {
      this.logger.warn(`[${this.controller}] could not release leadership: ${(error as Error).message}`, this.fields());
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      await this.losing;
      if (!this.running) return;
      this.lastAttemptAt = Date.now();
      if (this.leading) await this.renewOnce();
      else await this.acquireOnce();
      if (!this.running) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, this.retryPeriod);
      });
    }
  }

  private async acquireOnce(): Promise<void> {
    let won = false;
    try {
      won = await this.coordinator.acquire();
    } catch (error) {
      this.logger.debug(`[${this.controller}] leadership acquire failed: ${(error as Error).message}`, this.fields());
    }
    if (!won || !this.running) return;
    this.leading = true;
    this.lastRenewed = Date.now();
    this.logger.log(`[${this.controller}] became the leader (${this.identity})`, this.fields());
    this.callbacks.elected();
  }

  private async renewOnce(): Promise<void> {
    let renewed = false;
    let why = 'renew refused';
    try {
      renewed = await this.coordinator.renew();
    } catch (error) {
      why = (error as Error).message;
    }
    if (renewed) {
      this.lastRenewed = Date.now();
      return;
    }
    const failingFor = Date.now() - this.lastRenewed;
    if (failingFor >= this.renewDeadline) {
      await this.lose(`renewals failed for ${failingFor} ms (renewDeadline ${this.renewDeadline} ms): ${why}`);
    } else {
      this.logger.debug(`[${this.controller}] leadership renew failed (${why}); retrying`, this.fields());
    }
  }

  private lose(reason: string): Promise<void> {
    this.losing ??= (async () => {
      this.leading = false;
      this.logger.warn(`[${this.controller}] lost leadership (${this.identity}): ${reason}; standing by`, this.fields());
      await this.callbacks.lost(reason);
    })().finally(() => {
      this.losing = undefined;
    });
    return this.losing;
  }

  private fields(): Record<string, unknown> {
    return { controller: this.controller, identity: this.identity, leader: this.leading };
  }
}

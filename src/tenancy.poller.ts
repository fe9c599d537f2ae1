import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap, Optional } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { createCoordinator } from './coordination/create-coordinator.js';
import { LeaderElection } from './coordination/leader-election.js';
import { AttemptRunner } from './dispatch/attempt-runner.js';
import { TenancyHandlerRegistry } from './discovery/tenancy-handler.registry.js';
import { TenancyRun } from './run/tenancy-run.js';
import { runGauges, runStatus } from './run/run-status.js';
import { TenantManagerClient } from './tenant-manager/tenant-manager.client.js';
import type { TenancyPollerPhase, TenancyStatus } from './tenancy-status.js';
import { TENANCY_RESOLVED_OPTIONS } from './tenancy.constants.js';
import { TenancyLogger } from './telemetry/tenancy-logger.js';
import { TenancyTelemetry } from './telemetry/tenancy.telemetry.js';
import type { ResolvedTenancyOptions } from './tenancy-options.js';

/** Liveness tolerates this many loop periods without a fetch attempt. */
const LIVENESS_PERIODS = 3;

/**
 * Follows the Tenant Manager: each start() (or election win) begins a fresh
 * {@link TenancyRun} that replays the snapshot, then polls and dispatches. Starts on
 * application bootstrap (unless `autoStart: false`) without delaying it, and drains
 * at shutdown. With `coordination`, only the elected replica runs.
 */
@Injectable()
export class TenancyPoller implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly election?: LeaderElection;
  private phase: TenancyPollerPhase = 'idle';
  private run?: TenancyRun;
  private readyWaiters: Array<() => void> = [];
  private stopping?: Promise<void>;

  constructor(
    @Inject(TENANCY_RESOLVED_OPTIONS) private readonly options: ResolvedTenancyOptions,
    private readonly client: TenantManagerClient,
    private readonly registry: TenancyHandlerRegistry,
    private readonly attempts: AttemptRunner,
    private readonly telemetry: TenancyTelemetry,
    private readonly logger: TenancyLogger,
    // With the host's ScheduleModule, the poll and resync jobs are registered there.
    @Optional() private readonly scheduler?: SchedulerRegistry,
  ) {
    if (options.coordination) {
      this.election = new LeaderElection(
        createCoordinator(options.coordination),
        { elected: () => this.startRun(), lost: (reason) => this.run?.abandon(reason) ?? Promise.resolve() },
        logger,
      );
    }
    telemetry.bindGauges(() => runGauges(this.phase, this.run, this.isLeader()));
  }

  onApplicationBootstrap(): void {
    if (this.options.autoStart) this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** Readiness: the replay snapshot was fetched and queued; false again from shutdown (or leadership loss) on. */
  isReady(): boolean {
    return this.run?.state === 'polling';
  }

  /**
   * Liveness: the fetch loop (or, standing by, the election loop) is still making
   * attempts: its last one is younger than 3 × max(pollInterval, maxBackoff,
   * httpTimeout). It does not depend on the Tenant Manager answering, so an outage
   * never restarts pods.
   */
  isAlive(): boolean {
    const phase = this.currentPhase();
    if (phase === 'idle' || phase === 'stopping') return true;
    const last = phase === 'standby' ? (this.election?.lastAttemptAt ?? null) : (this.run?.feed.lastAttemptAt ?? null);
    if (phase === 'stopped' || last === null) return false;
    const period = Math.max(this.options.pollInterval, this.options.maxBackoff, this.options.httpTimeout);
    return Date.now() - last < LIVENESS_PERIODS * period;
  }

  /** Resolves when {@link isReady} becomes true, or when the poller stops before that. */
  whenReady(): Promise<void> {
    if (this.isReady()) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /**
   * Resolves when the replay has been fetched (if running) and nothing is queued, in
   * flight, waiting to retry, or waiting to be written as status; or when the poller
   * stops. Parked events do not count. Tests wait on this, not on sleeps.
   */
  async whenIdle(): Promise<void> {
    const run = this.run;
    if (!run?.accepting) return;
    if (run.state === 'replaying') await this.whenReady();
    await run.whenIdle();
  }

  /** A point-in-time view for health checks and dashboards. */
  getStatus(): TenancyStatus {
    return runStatus({
      controller: this.options.controllerName,
      phase: this.currentPhase(),
      run: this.run,
      ready: this.isReady(),
      alive: this.isAlive(),
      leader: this.isLeader(),
      identity: this.election?.identity ?? null,
      counters: this.telemetry.counters(),
    });
  }

  /**
   * Starts in the background: replay, then polling. With `coordination`, starts the
   * election instead, and only the leader runs. No-op while running or stopping.
   */
  start(): void {
    if (this.stopping) return;
    if (!this.election) return this.startRun();
    if (this.phase === 'idle' || this.phase === 'stopped') this.phase = 'standby';
    this.election.start();
  }

  /**
   * Stops fetching at once, waits up to `shutdownTimeout` for in-flight handlers,
   * then aborts their signals and gives waiting status writes a last attempt. Queued
   * events that never started are left for the next replay. With `coordination`,
   * then releases the leadership so a standby takes over at once. Once it resolves,
   * nothing of the run leaves the process: no fetch, handler start or status write.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.phase !== 'idle') this.phase = 'stopping';
      if (this.election) await this.election.stop(() => this.run?.drain() ?? Promise.resolve());
      else await this.run?.drain();
      if (this.phase !== 'idle') this.phase = 'stopped';
      this.releaseReadyWaiters();
    })().finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  /** Re-queues parked events: all of them, or those of one resource. Returns how many. */
  retry(resourceId?: string): number {
    return this.run?.retry(resourceId) ?? 0;
  }

  /**
   * Fetches a fresh replay snapshot and queues it behind in-flight work; resources
   * still waiting from an earlier snapshot are updated in place, not queued twice.
   * The snapshot is level-based (current state), so this repairs drift, and a
   * snapshot behind our cursor reveals a replaced event log. Skipped while the first
   * replay is still coming, or while the queue is full.
   */
  resync(): Promise<void> {
    const run = this.run;
    if (!run?.accepting) return Promise.resolve();
    if (run.state === 'replaying') return this.whenReady();
    return run.resync();
  }

  private startRun(): void {
    if (this.run?.accepting || this.stopping) return;
    // The run before (abandoned or drained) is passed on: its handlers still running
    // hold back their orgs in the new run until they settle.
    const run = new TenancyRun(
      {
        options: this.options,
        client: this.client,
        follows: (type) => this.registry.follows(type),
        attempts: this.attempts,
        telemetry: this.telemetry,
        logger: this.logger,
        scheduler: this.scheduler,
      },
      this.run,
    );
    this.run = run;
    this.phase = 'replaying';
    run.start(() => this.releaseReadyWaiters());
  }

  private currentPhase(): TenancyPollerPhase {
    if (this.phase !== 'replaying') return this.phase;
    const state = this.run?.state;
    if (state === 'polling') return 'polling';
    if (state === 'replaying') return 'replaying';
    return this.election ? 'standby' : 'stopped';
  }

  /** Coordinated: holds the leadership. Otherwise: a run is active (between start and stop). */
  private isLeader(): boolean {
    if (this.election) return this.election.isLeader;
    return this.run?.accepting ?? false;
  }

  private releaseReadyWaiters(): void {
    for (const resolve of this.readyWaiters.splice(0)) resolve();
  }
}

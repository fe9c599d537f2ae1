import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap, Optional } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { createCoordinator } from './coordination/create-coordinator.js';
import { LeaderElection } from './coordination/leader-election.js';
import { AttemptRunner } from './dispatch/attempt-runner.js';
import { TenancyHandlerRegistry } from './discovery/tenancy-handler.registry.js';
import { isAlive, pollerPhase, runGauges, runStatus } from './run/run-status.js';
import { type RunServices, TenancyRun } from './run/tenancy-run.js';
import { TenantManagerClient } from './tenant-manager/tenant-manager.client.js';
import type { TenancyPollerPhase, TenancyStatus } from './tenancy-status.js';
import { TENANCY_RESOLVED_OPTIONS } from './tenancy.constants.js';
import { TenancyLogger } from './telemetry/tenancy-logger.js';
import { TenancyTelemetry } from './telemetry/tenancy.telemetry.js';
import type { ResolvedTenancyOptions } from './tenancy-options.js';

/**
 * Follows the Tenant Manager: each start() (or election win) begins a fresh {@link TenancyRun}
 * that replays the snapshot, then polls and dispatches. Starts on bootstrap (unless `autoStart:
 * false`) without delaying it, drains at shutdown. With `coordination`, only the leader runs.
 */
@Injectable()
export class TenancyPoller implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly services: RunServices;
  private readonly election?: LeaderElection;
  private phase: TenancyPollerPhase = 'idle';
  private run?: TenancyRun;
  private readyWaiters: Array<() => void> = [];
  private stopping?: Promise<void>;

  constructor(
    @Inject(TENANCY_RESOLVED_OPTIONS) private readonly options: ResolvedTenancyOptions,
    private readonly client: TenantManagerClient,
    registry: TenancyHandlerRegistry,
    attempts: AttemptRunner,
    private readonly telemetry: TenancyTelemetry,
    logger: TenancyLogger,
    // With the host's ScheduleModule, the poll and resync jobs are registered there.
    @Optional() scheduler?: SchedulerRegistry,
  ) {
    this.services = { options, client, follows: (type) => registry.follows(type), attempts, telemetry, logger, scheduler };
    if (options.coordination) {
      const callbacks = { elected: () => this.startRun(), lost: (reason: string) => this.run?.abandon(reason) ?? Promise.resolve() };
      this.election = new LeaderElection(createCoordinator(options.coordination), callbacks, logger);
    }
    telemetry.bindGauges(() => runGauges(this.currentPhase(), this.run, this.isLeader()));
  }

  onApplicationBootstrap(): void {
    if (this.options.autoStart) this.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.stop();
  }

  /** Readiness: the replay snapshot was fetched and queued; false again from shutdown (or leadership loss) on. */
  isReady(): boolean {
    return this.run?.state === 'polling';
  }

  /** Liveness: the fetch loop (standing by: the election loop) keeps making attempts, whether or not the Tenant Manager answers. */
  isAlive(): boolean {
    const phase = this.currentPhase();
    return isAlive(phase, (phase === 'standby' ? this.election?.lastAttemptAt : this.run?.feed.lastAttemptAt) ?? null, this.options);
  }

  /** Resolves once {@link isReady} or stopped; at once when idle without autoStart (nothing else would release it). */
  whenReady(): Promise<void> {
    if (this.isReady() || this.phase === 'stopped' || (this.phase === 'idle' && !this.options.autoStart)) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Resolves when the replay is queued and nothing is queued, in flight, retrying or unwritten (parked aside), or the run ends. */
  async whenIdle(): Promise<void> {
    const run = this.run;
    if (!run?.accepting) return;
    if (run.state === 'replaying') await this.whenReady();
    await run.whenIdle();
  }

  /** A point-in-time view for health checks and dashboards. */
  getStatus(): TenancyStatus {
    const identity = this.election?.identity ?? null;
    const [phase, ready, alive, leader] = [this.currentPhase(), this.isReady(), this.isAlive(), this.isLeader()];
    return runStatus({ controller: this.options.controllerName, phase, run: this.run, ready, alive, leader, identity, counters: this.telemetry.counters() });
  }

  /** Starts in the background: replay, then polling (with `coordination`: the election). No-op while running or stopping. */
  start(): void {
    if (this.stopping) return;
    if (!this.election) return this.startRun();
    if (this.phase === 'idle' || this.phase === 'stopped') this.phase = 'standby';
    this.election.start();
  }

  /**
   * Stops fetching at once, waits up to `shutdownTimeout` for in-flight handlers (then
   * aborts their signals), gives waiting status writes a last attempt, and with
   * `coordination` releases the leadership. Once it resolves, nothing leaves the process.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.phase !== 'idle') this.phase = 'stopping';
      if (this.election) await this.election.stop(() => this.run?.drain() ?? Promise.resolve());
      else await this.run?.drain();
      // Nothing is in flight now: no keep-alive socket outlives stop() (a start() makes new ones).
      this.client.releaseConnections();
      if (this.phase !== 'idle') this.phase = 'stopped';
      this.releaseReadyWaiters();
    })().finally(() => (this.stopping = undefined));
    return this.stopping;
  }

  /** Re-queues parked events (all, or one resource's); returns how many. */
  retry(resourceId?: string): number {
    return this.run?.retry(resourceId) ?? 0;
  }

  /**
   * Queues a fresh (level-based) snapshot behind in-flight work: repairs drift, reveals a
   * replaced event log. Skipped before the first replay is queued and while the queue is full.
   */
  resync(): Promise<void> {
    if (!this.run?.accepting) return Promise.resolve();
    return this.run.state === 'replaying' ? this.whenReady() : this.run.resync();
  }

  private startRun(): void {
    if (this.run?.accepting || this.stopping) return;
    // Only the handlers still running of the run before are passed on (they hold back their orgs), not the run.
    this.run = new TenancyRun(this.services, this.run?.stillRunning());
    this.phase = 'replaying';
    this.run.start(() => this.releaseReadyWaiters());
  }

  private currentPhase(): TenancyPollerPhase {
    return pollerPhase(this.phase, this.run?.state, this.election !== undefined);
  }

  /** With coordination: holds the leadership. Without: a run is active (from start() until stop()). */
  private isLeader(): boolean {
    return this.election ? this.election.isLeader : (this.run?.accepting ?? false);
  }

  private releaseReadyWaiters(): void {
    for (const resolve of this.readyWaiters.splice(0)) resolve();
  }
}

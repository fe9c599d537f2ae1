import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { TENANCY_RESOLVED_OPTIONS } from '../tenancy.constants.js';
import { TenancyConfigurationError } from '../tenancy.errors.js';
import { metricsControllerShared } from '../tenancy.messages.js';
import { createPromMetrics, type GaugeState, type PromMetrics } from './tenancy.prometheus.js';
import { TenancyLogger } from './tenancy-logger.js';
import type { TenancyCounters } from '../tenancy-status.js';
import type { ResolvedTenancyOptions } from '../tenancy-options.js';

/** How one attempt at an event ended. */
export type EventResult = 'success' | 'failure' | 'parked';

/**
 * Counts what happens (for `getStatus()`) and, when the host passed a prom-client
 * registry in `metrics`, mirrors it into Prometheus metrics. The single place both
 * are updated, so they cannot disagree. The metrics join the registry at module init
 * and leave it at application shutdown (after the poller has stopped), so apps can
 * share a registry and restart in one process.
 */
@Injectable()
export class TenancyTelemetry implements OnModuleInit, OnApplicationShutdown {
  private readonly events = new Map<string, number>();
  private retries = 0;
  private readonly statusWrites = { ok: 0, failed: 0 };
  private readonly polls = { ok: 0, failed: 0 };
  private prom?: PromMetrics;
  private gaugeState?: () => GaugeState;

  constructor(
    @Inject(TENANCY_RESOLVED_OPTIONS) private readonly options: ResolvedTenancyOptions,
    private readonly logger: TenancyLogger,
  ) {}

  async onModuleInit(): Promise<void> {
    const metrics = this.options.metrics;
    if (!metrics || this.prom) return;
    try {
      this.prom = await createPromMetrics(metrics.registry, this.options.controllerName, () => this.readGauges());
    } catch (error) {
      throw new TenancyConfigurationError(`TenancyModule ${(error as Error).message}`, { cause: error });
    }
    if (this.prom.sharedController) this.logger.warn(metricsControllerShared(this.options.controllerName));
  }

  /** Leaves the registry: this controller's series go, and metrics no other app uses are unregistered. */
  async onApplicationShutdown(): Promise<void> {
    const prom = this.prom;
    this.prom = undefined;
    await prom?.release();
  }

  /** The poller tells us where to read live gauge values from. */
  bindGauges(read: () => GaugeState): void {
    this.gaugeState = read;
  }

  eventOutcome(resourceType: string, eventType: string, result: EventResult): void {
    const key = `${resourceType}/${eventType}/${result}`;
    this.events.set(key, (this.events.get(key) ?? 0) + 1);
    this.prom?.eventOutcome(resourceType, eventType, result);
  }

  handlerFinished(handler: string, seconds: number, ok: boolean): void {
    this.prom?.handlerFinished(handler, seconds, ok);
  }

  retry(): void {
    this.retries += 1;
    this.prom?.retry();
  }

  poll(ok: boolean): void {
    if (ok) this.polls.ok += 1;
    else this.polls.failed += 1;
    this.prom?.poll(ok);
  }

  statusWrite(ok: boolean): void {
    if (ok) this.statusWrites.ok += 1;
    else this.statusWrites.failed += 1;
    this.prom?.statusWrite(ok);
  }

  replayFinished(seconds: number): void {
    this.prom?.replayFinished(seconds);
  }

  counters(): TenancyCounters {
    return {
      events: Object.fromEntries(this.events),
      retries: this.retries,
      statusWrites: { ...this.statusWrites },
      polls: { ...this.polls },
    };
  }

  private readGauges(): GaugeState {
    return (
      this.gaugeState?.() ?? {
        phase: 'idle',
        queued: 0,
        inFlight: 0,
        retrying: 0,
        parked: 0,
        fetchCursor: 0,
        completedEventId: 0,
        statusWritesPending: 0,
        lastPollSuccessAt: null,
        leader: false,
      }
    );
  }
}

import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { TenancyPoller } from '../tenancy.poller.js';

/**
 * `@nestjs/terminus` indicators for a tenant controller:
 * - `isReady(key)`: up once the replay snapshot is fetched and queued, down again at
 *   shutdown. Wire it to the readiness probe.
 * - `isAlive(key)`: up while the fetch loop keeps making attempts, whether or not
 *   the Tenant Manager answers (an outage must not restart pods). Liveness probe.
 *
 * Provide it next to `TerminusModule`; it injects the global `TenancyPoller`.
 */
@Injectable()
export class TenancyHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly poller: TenancyPoller,
  ) {}

  isReady<const Key extends string>(key: Key) {
    const indicator = this.health.check(key);
    const s = this.poller.getStatus();
    const details = {
      controller: s.controller,
      phase: s.phase,
      ready: s.ready,
      fetchCursor: s.fetchCursor,
      completedEventId: s.completedEventId,
      queued: s.queued,
      inFlight: s.inFlight,
      retrying: s.retrying,
      parked: s.parked,
    };
    return s.ready ? indicator.up(details) : indicator.down(details);
  }

  isAlive<const Key extends string>(key: Key) {
    const indicator = this.health.check(key);
    const s = this.poller.getStatus();
    const details = {
      controller: s.controller,
      phase: s.phase,
      alive: s.alive,
      lastPollAttemptAt: s.lastPollAttemptAt?.toISOString() ?? null,
      lastPollSuccessAt: s.lastPollSuccessAt?.toISOString() ?? null,
    };
    return s.alive ? indicator.up(details) : indicator.down(details);
  }
}

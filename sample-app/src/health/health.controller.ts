import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { TenancyPoller } from 'nestjs-tenancy';
import { TenancyHealthIndicator } from 'nestjs-tenancy/terminus';

/** Body of `GET /health`. */
export interface HealthResponse {
  readonly status: 'ok' | 'starting';
  readonly ready: boolean;
}

/**
 * Probes. `/health/ready` (readiness) is down until the replay snapshot has arrived
 * (before that, this process does not know the current tenants) and again during
 * shutdown; `/health/live` (liveness) stays up through a Tenant Manager outage, so
 * an outage never restarts the pod. `/health` is a plain-JSON readiness check.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly poller: TenancyPoller,
    private readonly health: HealthCheckService,
    private readonly tenancy: TenancyHealthIndicator,
  ) {}

  @Get()
  check(): HealthResponse {
    if (!this.poller.isReady()) {
      // An object given to an HttpException is sent as the body, as-is.
      throw new ServiceUnavailableException({ status: 'starting', ready: false } satisfies HealthResponse);
    }
    return { status: 'ok', ready: true };
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.tenancy.isReady('tenancy')]);
  }

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([() => this.tenancy.isAlive('tenancy')]);
  }
}

import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { TenancyPoller } from 'nestjs-tenancy';

/** Body of `GET /health`. */
export interface HealthResponse {
  readonly status: 'ok' | 'starting';
  readonly ready: boolean;
}

/**
 * Readiness for a load balancer or Kubernetes probe: 503 until the replay snapshot
 * has arrived (before that, this process does not know the current tenants), then 200.
 */
@Controller('health')
export class HealthController {
  constructor(private readonly poller: TenancyPoller) {}

  @Get()
  check(): HealthResponse {
    if (!this.poller.isReady()) {
      // An object given to an HttpException is sent as the body, as-is.
      throw new ServiceUnavailableException({ status: 'starting', ready: false } satisfies HealthResponse);
    }
    return { status: 'ok', ready: true };
  }
}

import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { TenancyHealthIndicator } from 'nestjs-tenancy/terminus';
import { HealthController } from './health.controller.js';
import { MetricsController } from './metrics.controller.js';

/** Probes (`/health`, `/health/live`, `/health/ready`) and `GET /metrics`. */
@Module({
  imports: [TerminusModule],
  controllers: [HealthController, MetricsController],
  providers: [TenancyHealthIndicator],
})
export class HealthModule {}

// The RSS floor of the host: a Nest application context with no library, idle for
// as long as S1/S6 let the client idle. Issue 14's RSS targets are absolute; this
// row shows how much of a client's RSS is Nest and Node before any tenancy work.
import { runJob } from './child.runtime.js';
import { fullGc } from './process.meter.js';

export interface NestFloorJob {
  readonly idleMs: number;
}

export interface NestFloorResult {
  /** RSS after idling, and after a forced full GC, bytes. */
  readonly rss: number;
  readonly rssAfterGc: number;
}

async function measure(job: NestFloorJob): Promise<NestFloorResult> {
  await import('reflect-metadata');
  const { NestFactory } = await import('@nestjs/core');
  const { PlainAppModule } = await import('./startup.nest-app.js');
  const app = await NestFactory.createApplicationContext(PlainAppModule, { logger: false });
  await new Promise((resolve) => setTimeout(resolve, job.idleMs));
  const rss = process.memoryUsage.rss();
  fullGc();
  const rssAfterGc = process.memoryUsage.rss();
  await app.close();
  return { rss, rssAfterGc };
}

runJob<NestFloorJob, NestFloorResult>((job) => measure(job));

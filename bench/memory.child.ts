// `npm run bench -- --memory`: where the memory of a large replay goes, one
// stage per process (fresh heap), every figure after a full GC so it is the
// live set, not garbage:
//  - decode: the replay response as bytes, as one string, as JSON.parse objects,
//    as TenancyEvent instances (each step with and without the previous copy);
//  - library: the library's live heap once the whole snapshot is fetched and
//    queued (handlers held, so nothing has finished yet), after every event is
//    done, and a heap snapshot summary of the queued state (self size by type).
import { get } from 'node:http';
import { writeHeapSnapshot } from 'node:v8';
// Type only (erased): the library is imported late, on purpose, so its heap share is measured.
import type { WireEvent } from 'nestjs-tenancy/testing';
import { runJob } from './child.runtime.js';
import type { HandledEvent } from './handler.behaviour.js';
import { HandlerBehaviour } from './handler.behaviour.js';
import type { MemoryJob, MemoryPoint, MemoryStageResult } from './memory.api.js';
import { fullGc } from './process.meter.js';

function point(label: string): MemoryPoint {
  fullGc();
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return { label, rss, heapUsed, external, arrayBuffers };
}

function fetchChunks(url: string): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(chunks) : reject(new Error(`replay: HTTP ${res.statusCode}`))));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/**
 * The representations the decode stage holds. Each step runs in its own function
 * and leaves its result here, so no temporary of a caller's frame (an interpreter
 * register still pointing at a dropped copy) keeps a dropped copy alive.
 */
interface Held {
  chunks?: Buffer[];
  text?: string;
  parsed?: { events: WireEvent[] };
  events?: unknown[];
}

function concatenate(held: Held): void {
  held.text = Buffer.concat(held.chunks!).toString('utf8');
}

function parse(held: Held): void {
  held.parsed = JSON.parse(held.text!) as { events: WireEvent[] };
}

function construct(held: Held, make: (event: WireEvent) => unknown): void {
  held.events = held.parsed!.events.map(make);
}

async function decode(job: MemoryJob): Promise<MemoryStageResult> {
  const { TenancyEvent } = await import('nestjs-tenancy');
  const points = [point('start (nestjs-tenancy imported)')];
  const held: Held = { chunks: await fetchChunks(`${job.url}/v1/events?controller=${job.controllerName}&replay=true`) };
  const bytes = held.chunks!.reduce((sum, chunk) => sum + chunk.length, 0);
  points.push(point('response bytes (Buffer chunks)'));
  concatenate(held);
  delete held.chunks;
  points.push(point('as one string (bytes dropped)'));
  parse(held);
  points.push(point('string + JSON.parse objects'));
  delete held.text;
  points.push(point('JSON.parse objects (string dropped)'));
  construct(held, (e) => new TenancyEvent({ ...e, createdAt: new Date(e.createdAt) }));
  points.push(point('parsed objects + TenancyEvent instances'));
  delete held.parsed;
  points.push(point('TenancyEvent instances (parsed dropped)'));
  const count = held.events!.length;
  delete held.events;
  points.push(point('all dropped'));
  return { stage: 'decode', events: count, responseBytes: bytes, points };
}

/** Handlers wait on a gate: with all of them held, the whole snapshot stays queued. */
class GatedBehaviour extends HandlerBehaviour {
  private open!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.open = resolve));

  override async handle(event: HandledEvent): Promise<void> {
    await this.gate;
    return super.handle(event);
  }

  release(): void {
    this.open();
  }
}

async function library(job: MemoryJob): Promise<MemoryStageResult> {
  const { NestFactory } = await import('@nestjs/core');
  const { TenancyPoller } = await import('nestjs-tenancy');
  const { BenchAppModule, CountingLogger } = await import('./library.app.js');
  const points = [point('start (Nest + nestjs-tenancy imported)')];
  const behaviour = new GatedBehaviour({ delayMs: 0 });
  const app = await NestFactory.createApplicationContext(
    BenchAppModule.register({ url: job.url, controllerName: job.controllerName, pollInterval: 60_000 }, behaviour),
    { logger: new CountingLogger(), abortOnError: false },
  );
  const poller = app.get(TenancyPoller);
  await poller.whenReady();
  points.push(point('snapshot fetched and queued, handlers held'));
  // A heap snapshot costs hundreds of MiB of native memory: only in its own run, whose points are not reported.
  const heapSnapshot = job.heapSnapshotPath ? writeHeapSnapshot(job.heapSnapshotPath) : undefined;
  behaviour.release();
  await poller.whenIdle();
  points.push(point('every event done (idle)'));
  await app.close();
  points.push(point('application closed'));
  return { stage: 'library', events: behaviour.successes, responseBytes: 0, points, ...(heapSnapshot ? { heapSnapshot } : {}) };
}

runJob<MemoryJob, MemoryStageResult>((job) => (job.stage === 'decode' ? decode(job) : library(job)));

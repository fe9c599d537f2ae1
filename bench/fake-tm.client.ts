// The library as CLIENT_CMD for ../shared/bench/fake-tm.mjs: a Nest application
// context with TenancyModule and @OnTenancyEvent handlers, configured from the
// environment like a deployed controller:
//
//   TENANT_MANAGER_URL      the fake TM's URL (read by the library itself)
//   BENCH_CONTROLLER        controller name (default bench-fake-tm)
//   BENCH_HANDLER_DELAY_MS  each handler call awaits a timer this long (default 0: no-op)
//   BENCH_POISON_PREFIX     handler calls fail for resource names with this prefix (default poison-)
//
// Runs until SIGTERM/SIGINT. Forked with an IPC channel (the bench's --fake-tm
// mode), it also answers `sample` (CPU over its window, RSS) and `idle` (idle RSS).
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { HandlerBehaviour } from './handler.behaviour.js';
import { IpcPeer } from './ipc.js';
import { idleMemory, ProcessMeter } from './process.meter.js';

const meter = new ProcessMeter();

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

async function main(): Promise<void> {
  const { BenchAppModule, CountingLogger } = await import('./library.app.js');
  const behaviour = new HandlerBehaviour({
    delayMs: intFromEnv('BENCH_HANDLER_DELAY_MS', 0),
    poisonPrefix: process.env['BENCH_POISON_PREFIX'] || 'poison-',
  });
  const app = await NestFactory.createApplicationContext(
    BenchAppModule.register({ controllerName: process.env['BENCH_CONTROLLER'] || 'bench-fake-tm' }, behaviour),
    { logger: new CountingLogger(), abortOnError: false },
  );
  let closing: Promise<void> | undefined;
  const shutdown = () => {
    closing ??= app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  if (process.send) {
    const peer = IpcPeer.toParent();
    peer.handle('sample', () => ({ ...meter.done(), handlerCalls: behaviour.calls, handlerFailures: behaviour.failures }));
    peer.handle('idle', ({ ms }: { ms: number }) => idleMemory(ms));
    // The bench went away: stop rather than poll forever.
    process.once('disconnect', shutdown);
    peer.emit('started');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

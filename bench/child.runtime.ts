import { IpcPeer } from './ipc.js';

/** Environment variable that carries a child process's job (JSON), so it starts work at once. */
export const JOB_ENV = 'BENCH_JOB';

/**
 * The child's side of {@link runInChild}: reads the job from the environment (no
 * IPC round trip before the work starts, so spawn → first request is start-up
 * only), runs it, and posts `result` or `failed`. Exits when the parent says so,
 * after the answer was flushed (`--cpu-prof` writes its profile on exit).
 */
export function runJob<J, R>(work: (job: J, peer: IpcPeer) => Promise<R>): void {
  const peer = IpcPeer.toParent();
  peer.handle('exit', () => {
    setImmediate(() => process.exit(0));
    return null;
  });
  const raw = process.env[JOB_ENV];
  const started = raw === undefined ? Promise.reject(new Error(`${JOB_ENV} is not set`)) : work(JSON.parse(raw) as J, peer);
  started.then(
    (value) => peer.emit('result', value),
    (error: unknown) => peer.emit('failed', error instanceof Error ? (error.stack ?? error.message) : String(error)),
  );
}

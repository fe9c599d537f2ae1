import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { JOB_ENV } from './child.runtime.js';
import type { ClientJob, ClientResult } from './client.api.js';
import { preciseNow } from './clock.js';
import { IpcPeer } from './ipc.js';

export interface ClientProcessOptions {
  /** Extra node flags, e.g. `--cpu-prof` for the library when profiling. */
  readonly execArgv?: readonly string[];
  /** Called when the client has handled its replay and is polling. */
  readonly onReady?: () => void;
  /** Called when the client's measured window ends (its last status write landed). */
  readonly onDone?: () => void | Promise<void>;
}

/** A child's answer plus when the parent spawned it (epoch ms). */
export type Spawned<R> = R & { readonly spawnedAt: number };

/** Runs one job in a fresh client process and returns what it measured. */
export function runClient(job: ClientJob, options: ClientProcessOptions = {}): Promise<Spawned<ClientResult>> {
  return runInChild<ClientJob, ClientResult>('./client.child.js', job.client, job, options);
}

/**
 * Forks `script` (next to this file) with the job in its environment and answers
 * its result. `onDone` runs before the child is told to go on (the child waits
 * for `continue` after emitting `done`, if it emits it), so a sample taken there
 * (e.g. the server's CPU) is taken at the end of the window.
 */
export async function runInChild<J, R>(script: string, label: string, job: J, options: ClientProcessOptions = {}): Promise<Spawned<R>> {
  const spawnedAt = preciseNow();
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [...(options.execArgv ?? [])],
    env: { ...process.env, [JOB_ENV]: JSON.stringify(job) },
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const peer = IpcPeer.toChild(child);
  if (options.onReady) peer.on('ready', options.onReady);
  peer.handle('done', async () => {
    await options.onDone?.();
    return null;
  });
  try {
    const value = await new Promise<R>((resolve, reject) => {
      peer.on<R>('result', resolve);
      peer.on<string>('failed', (error) => reject(new Error(`${label} process failed: ${error}`)));
      void exited.then((code) => reject(new Error(`${label} process exited early (code ${code})`)));
    });
    return { ...value, spawnedAt };
  } finally {
    await peer.request('exit').catch(() => undefined);
    if (child.exitCode === null) {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  }
}

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ClientJob, ClientResult } from './client.api.js';
import { IpcPeer } from './ipc.js';

export interface ClientProcessOptions {
  /** Extra node flags, e.g. `--cpu-prof` for the library when profiling. */
  readonly execArgv?: readonly string[];
  /** Called when the client has handled its replay and is polling. */
  readonly onReady?: () => void;
}

/** Runs one job in a fresh client process and returns what it measured. */
export function runClient(job: ClientJob, options: ClientProcessOptions = {}): Promise<ClientResult> {
  return runInChild<ClientJob, ClientResult>('./client.child.js', job.client, job, options);
}

/** Forks `script` (next to this file), sends it `run` with the job, answers its result. */
export async function runInChild<J, R>(script: string, label: string, job: J, options: ClientProcessOptions = {}): Promise<R> {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [...(options.execArgv ?? [])],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const peer = IpcPeer.toChild(child);
  await new Promise<void>((resolve, reject) => {
    peer.on('started', () => resolve());
    void exited.then((code) => reject(new Error(`${label} process exited early (code ${code})`)));
  });
  if (options.onReady) peer.on('ready', options.onReady);
  try {
    return await peer.request<R>('run', job);
  } finally {
    await peer.request('exit').catch(() => undefined);
    if (child.exitCode === null) {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  }
}

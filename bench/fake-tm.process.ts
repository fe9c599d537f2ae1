import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** Environment variable naming another fake-tm.mjs (e.g. from a git worktree that has no `../shared`). */
export const FAKE_TM_ENV = 'BENCH_FAKE_TM';

/** The shared fake Tenant Manager, next to the repository: `<repo>/../shared/bench/fake-tm.mjs`, or $BENCH_FAKE_TM. */
export function fakeTmPath(repoRoot: string): string {
  return process.env[FAKE_TM_ENV] || join(repoRoot, '..', 'shared', 'bench', 'fake-tm.mjs');
}

/** Its ready line on stdout. */
interface ReadyLine {
  readonly ready: true;
  readonly url: string;
  readonly pid: number;
  readonly snapshotEvents: number;
  readonly lastEventId: number;
}

let ticksPerSecond: number | undefined;

/** CPU (user + system) a process has used, µs, from /proc (Linux; 10 ms resolution). Null elsewhere. */
export function processCpuMicros(pid: number): number | null {
  const path = `/proc/${pid}/stat`;
  if (!existsSync(path)) return null;
  // Fields after the command name (which may hold spaces), counted from field 3.
  const fields = readFileSync(path, 'utf8').slice(readFileSync(path, 'utf8').lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  ticksPerSecond ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  return ((utime + stime) * 1_000_000) / ticksPerSecond;
}

/** One fake-tm.mjs process: started with CLI options, queried over its admin API, always stopped. */
export class FakeTmProcess {
  private readonly exited: Promise<void>;
  private readonly killOnExit = () => this.child.kill('SIGKILL');

  private constructor(
    private readonly child: ChildProcess,
    readonly ready: ReadyLine,
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    process.once('exit', this.killOnExit);
  }

  static async start(script: string, args: readonly string[]): Promise<FakeTmProcess> {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! });
    const ready = await new Promise<ReadyLine>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fake-tm did not print its ready line within 60 s`)), 60_000);
      lines.once('line', (line) => {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(line) as ReadyLine);
        } catch {
          reject(new Error(`fake-tm printed something other than its ready line: ${line.slice(0, 200)}`));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`fake-tm exited before it was ready (code ${code})`));
      });
    });
    lines.close();
    child.stdout!.resume();
    return new FakeTmProcess(child, ready);
  }

  get url(): string {
    return this.ready.url;
  }

  cpuMicros(): number | null {
    return processCpuMicros(this.ready.pid);
  }

  async get<T>(path: string): Promise<T> {
    const response = await fetch(`${this.url}${path}`);
    const text = await response.text();
    if (!response.ok) throw new Error(`fake-tm ${path}: HTTP ${response.status} ${text.slice(0, 200)}`);
    return JSON.parse(text) as T;
  }

  async stop(): Promise<void> {
    process.removeListener('exit', this.killOnExit);
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await this.exited;
      clearTimeout(timer);
    }
  }
}

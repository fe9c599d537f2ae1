import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Another process keeping one core busy, for the "loaded" scenario: a bounded
 * busy loop (it stops itself after `maxMs` even if the bench dies), which the
 * bench always kills when the measured run ends, and on its own exit.
 */
export class BusyLoad {
  private readonly exited: Promise<void>;
  private readonly killOnExit = () => this.child.kill('SIGKILL');

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    process.once('exit', this.killOnExit);
  }

  /** Starts the loop and resolves once it is spinning. */
  static async start(maxMs: number): Promise<BusyLoad> {
    const code = `process.stdout.write('spinning\\n'); const end = Date.now() + ${Math.round(maxMs)}; let x = 0; while (Date.now() < end) x = (x + 1) | 0;`;
    const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    const load = new BusyLoad(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('error', reject);
      child.once('exit', (status) => reject(new Error(`busy loop exited before spinning (${status})`)));
    });
    return load;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  async stop(): Promise<void> {
    process.removeListener('exit', this.killOnExit);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

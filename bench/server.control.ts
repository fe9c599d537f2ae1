import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { IpcPeer } from './ipc.js';
import type { ServerCommands } from './server.api.js';

/** The orchestrator's handle on the server process (the IPC control channel). */
export class ServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    private readonly peer: IpcPeer,
  ) {}

  /** Forks server.child.js and waits until it listens for commands. */
  static async start(): Promise<ServerProcess> {
    const child = fork(fileURLToPath(new URL('./server.child.js', import.meta.url)), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Room for a 100k-event snapshot and its JSON text.
      execArgv: ['--max-old-space-size=2048'],
    });
    const peer = IpcPeer.toChild(child);
    await new Promise<void>((resolve, reject) => {
      peer.on('started', () => resolve());
      child.once('exit', (code) => reject(new Error(`server process exited early (code ${code})`)));
    });
    return new ServerProcess(child, peer);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  call<K extends keyof ServerCommands>(
    command: K,
    ...args: ServerCommands[K]['args'] extends undefined ? [] : [ServerCommands[K]['args']]
  ): Promise<ServerCommands[K]['result']> {
    return this.peer.request(command, args[0]);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    await exited;
  }
}

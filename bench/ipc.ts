import type { ChildProcess } from 'node:child_process';

/** What travels over a Node IPC channel between the benchmark's processes. */
type IpcMessage =
  | { readonly kind: 'request'; readonly id: number; readonly command: string; readonly args: unknown }
  | { readonly kind: 'response'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly kind: 'response'; readonly id: number; readonly ok: false; readonly error: string }
  | { readonly kind: 'event'; readonly name: string; readonly data: unknown };

type CommandHandler = (args: never) => unknown;

/**
 * Request/response and one-way events over a forked process's IPC channel, the
 * same on both ends: the orchestrator drives the server and client processes with
 * it, and they answer (the control channel of the benchmark).
 */
export class IpcPeer {
  private sequence = 0;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly handlers = new Map<string, CommandHandler>();
  private readonly listeners = new Map<string, Array<(data: unknown) => void>>();
  private closedWith: Error | undefined;

  private constructor(private readonly post: (message: IpcMessage) => void) {}

  /** The child's end: talks to the process that forked it. */
  static toParent(): IpcPeer {
    const send = process.send?.bind(process);
    if (!send) throw new Error('this process was not forked with an IPC channel');
    const peer = new IpcPeer((message) => void send(message));
    process.on('message', (message) => peer.receive(message as IpcMessage));
    process.on('disconnect', () => peer.close(new Error('parent disconnected')));
    return peer;
  }

  /** The parent's end: talks to a forked child; pending requests fail if it exits. */
  static toChild(child: ChildProcess): IpcPeer {
    const peer = new IpcPeer((message) => {
      if (child.connected) child.send(message);
    });
    child.on('message', (message) => peer.receive(message as IpcMessage));
    child.once('exit', (code, signal) => peer.close(new Error(`child exited (code ${code}, signal ${signal})`)));
    return peer;
  }

  /** Sends a command and resolves with the other end's answer (rejects with its error). */
  request<T>(command: string, args?: unknown): Promise<T> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = ++this.sequence;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.post({ kind: 'request', id, command, args });
    });
  }

  /** Answers `command` requests; the handler may be async. */
  handle<A, R>(command: string, handler: (args: A) => R | Promise<R>): void {
    this.handlers.set(command, handler as CommandHandler);
  }

  /** Fire-and-forget notification. */
  emit(name: string, data?: unknown): void {
    this.post({ kind: 'event', name, data });
  }

  /** Listens to the other end's notifications. */
  on<T>(name: string, listener: (data: T) => void): void {
    const list = this.listeners.get(name) ?? [];
    list.push(listener as (data: unknown) => void);
    this.listeners.set(name, list);
  }

  private receive(message: IpcMessage): void {
    if (message.kind === 'response') {
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (!waiter) return;
      if (message.ok) waiter.resolve(message.value);
      else waiter.reject(new Error(message.error));
    } else if (message.kind === 'event') {
      for (const listener of this.listeners.get(message.name) ?? []) listener(message.data);
    } else {
      void this.answer(message.id, message.command, message.args);
    }
  }

  private async answer(id: number, command: string, args: unknown): Promise<void> {
    const handler = this.handlers.get(command);
    try {
      if (!handler) throw new Error(`unknown command ${command}`);
      const value = await (handler as (args: unknown) => unknown)(args);
      this.post({ kind: 'response', id, ok: true, value: value ?? null });
    } catch (error) {
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
      this.post({ kind: 'response', id, ok: false, error: text });
    }
  }

  private close(error: Error): void {
    this.closedWith = error;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}

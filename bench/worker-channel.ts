/**
 * The parent's side of a benchmark worker (a forked process with an IPC channel): send a command,
 * await the worker's next report, which is `unknown` until its schema accepts it.
 */
import type { Static, TSchema } from 'typebox';
import { isValid } from '../src/main/validate';
import { BenchChild } from './bench-child';

export class WorkerChannel<Cmd, S extends TSchema> {
  private reports: Static<S>[] = [];
  private waiter: ((r: Static<S>) => void) | null = null;

  private constructor(
    readonly child: BenchChild,
    private readonly schema: S,
  ) {
    child.proc.on('message', (msg: unknown) => {
      if (!isValid(schema, msg)) return;
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        w(msg);
      } else {
        this.reports.push(msg);
      }
    });
  }

  static fork<Cmd, S extends TSchema>(
    script: string,
    label: string,
    schema: S,
    onLine?: (l: string) => void,
  ): WorkerChannel<Cmd, S> {
    const child = BenchChild.node(script, [], { label, ipc: true, ...(onLine && { onLine }) });
    return new WorkerChannel<Cmd, S>(child, schema);
  }

  /** Sends `cmd` and resolves with the next report; rejects on timeout or if the worker exits. */
  async request(cmd: Cmd, timeoutMs: number): Promise<Static<S>> {
    this.child.proc.send(cmd as object);
    const queued = this.reports.shift();
    if (queued !== undefined) return queued;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        new Promise<Static<S>>((resolve) => (this.waiter = resolve)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new Error(
                  `${this.child.label}: no report within ${timeoutMs} ms\n${this.child.tail()}`,
                ),
              ),
            timeoutMs,
          );
        }),
        this.child.exited.then((e) => {
          throw new Error(
            `${this.child.label} exited (${e.code ?? e.signal})\n${this.child.tail()}`,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      this.waiter = null;
    }
  }

  /** Closes the channel (the worker exits on 'disconnect'), then makes sure it is gone. */
  async stop(): Promise<void> {
    if (this.child.proc.connected) this.child.proc.disconnect();
    const timer = setTimeout(() => void this.child.stop(2000), 3000);
    await this.child.exited;
    clearTimeout(timer);
  }
}

/**
 * Port calls (write, drain) that the loss of the port settles when their callback never comes.
 * serialport keeps a write to a port that closed underneath it queued until a reopen, so its
 * callback may never come, and a flash waited for it for ever when the device vanished
 * mid-write. Used by the STM32 link (stm32-link.ts) and the Web Serial adapter for esptool-js
 * (node-web-serial.ts).
 */

/** A serialport call taking a node-style callback: `(cb) => port.write(data, cb)`. */
export type PortCall = (cb: (err: Error | null | undefined) => void) => void;

export class PendingPortCalls {
  private readonly waiting = new Set<(err: Error) => void>();

  /** Calls whose callback has not come yet. */
  get size(): number {
    return this.waiting.size;
  }

  /**
   * Runs `start`: resolves on its callback, rejects with `onError(err)` on an error callback, or
   * with what `failAll` is given first (a callback after that is ignored).
   */
  run(start: PortCall, onError: (err: Error) => Error = (err) => err): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onFail = (err: Error): void => reject(err);
      this.waiting.add(onFail);
      start((err) => {
        if (!this.waiting.delete(onFail)) return;
        if (err) reject(onError(err));
        else resolve();
      });
    });
  }

  /** Rejects every call still waiting with `err` (the port is gone). */
  failAll(err: Error): void {
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const reject of waiting) reject(err);
  }
}

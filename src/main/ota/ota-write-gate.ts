/**
 * Bounds the `OTA.Write` calls in flight across the hub (config `ota.maxInflightWrites`). Each
 * transfer keeps one write in flight (PROTOCOL.md 6: await each reply), so 100 transfers used to
 * answer 100 device replies per event-loop turn with 100 new chunks, and a REST call waited behind
 * all of them (p99 8x idle, bench/RESULTS.md). With the gate, a transfer whose turn has not come
 * waits in a FIFO queue, and a freed slot is handed on from a `setImmediate`, after the I/O
 * callbacks that were already waiting (REST requests, other devices' frames) have run. A single
 * transfer never waits: the gate only acts when transfers compete.
 */

export class OtaWriteGate {
  private inflight = 0;
  private readonly waiting: (() => void)[] = [];
  private head = 0;
  /** Slots handed on through `setImmediate` (tests and benchmarks read it). */
  handoffs = 0;

  constructor(readonly max: number) {}

  /** Resolves when the caller may send one write; `release` exactly once afterwards. */
  acquire(): Promise<void> | null {
    if (this.inflight < this.max && this.head === this.waiting.length) {
      this.inflight++;
      return null;
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    if (this.head === this.waiting.length) {
      this.inflight--;
      return;
    }
    const next = this.waiting[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
    // The slot stays taken and goes to `next` after pending I/O got its turn.
    this.handoffs++;
    setImmediate(next);
  }

  get inFlight(): number {
    return this.inflight;
  }

  get queued(): number {
    return this.waiting.length - this.head;
  }
}

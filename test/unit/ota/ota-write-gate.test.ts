import { describe, expect, it } from 'vitest';
import { OtaWriteGate } from '../../../src/main/ota/ota-write-gate';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('OtaWriteGate', () => {
  it('lets at most max writes in flight, hands freed slots on in FIFO order after a turn', async () => {
    const gate = new OtaWriteGate(2);
    expect(gate.acquire()).toBeNull();
    expect(gate.acquire()).toBeNull();
    const order: number[] = [];
    void gate.acquire()?.then(() => order.push(3));
    void gate.acquire()?.then(() => order.push(4));
    expect(gate.inFlight).toBe(2);
    expect(gate.queued).toBe(2);
    gate.release();
    // Not synchronously: the slot goes on from a setImmediate, after pending I/O.
    expect(order).toEqual([]);
    await turn();
    expect(order).toEqual([3]);
    gate.release();
    await turn();
    expect(order).toEqual([3, 4]);
    expect(gate.inFlight).toBe(2);
    gate.release();
    gate.release();
    expect(gate.inFlight).toBe(0);
    expect(gate.handoffs).toBe(2);
  });

  it('a lone transfer never waits', () => {
    const gate = new OtaWriteGate(1);
    for (let i = 0; i < 100; i++) {
      expect(gate.acquire()).toBeNull();
      gate.release();
    }
    expect(gate.handoffs).toBe(0);
  });
});

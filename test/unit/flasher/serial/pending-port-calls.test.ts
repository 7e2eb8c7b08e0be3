/**
 * Port calls whose callback may never come (serialport queues a write to a port that closed until
 * a reopen): the loss of the port must settle them, and a late callback must change nothing.
 */
import { describe, expect, it } from 'vitest';
import {
  PendingPortCalls,
  type PortCall,
} from '../../../../src/main/flasher/serial/pending-port-calls';

type Callback = Parameters<PortCall>[0];

/** A port call that keeps its callback for the test to fire (or not). */
function held(): { start: PortCall; callback: () => Callback | undefined } {
  let cb: Callback | undefined;
  return { start: (c) => (cb = c), callback: () => cb };
}

describe('PendingPortCalls', () => {
  it('resolves on the callback and forgets the call', async () => {
    const calls = new PendingPortCalls();
    const call = held();
    const done = calls.run(call.start);
    expect(calls.size).toBe(1);
    call.callback()?.(null);
    await expect(done).resolves.toBeUndefined();
    expect(calls.size).toBe(0);
  });

  it('rejects with the mapped error on an error callback', async () => {
    const calls = new PendingPortCalls();
    const done = calls.run(
      (cb) => cb(new Error('EIO')),
      (err) => new Error(`write failed: ${err.message}`),
    );
    await expect(done).rejects.toThrow('write failed: EIO');
    expect(calls.size).toBe(0);
  });

  it('fails a call whose callback never comes once the port is lost', async () => {
    const calls = new PendingPortCalls();
    const never = calls.run(() => undefined);
    const alsoNever = calls.run(() => undefined);
    calls.failAll(new Error('Disconnected'));
    await expect(never).rejects.toThrow('Disconnected');
    await expect(alsoNever).rejects.toThrow('Disconnected');
    expect(calls.size).toBe(0);
  });

  it('ignores a callback that comes after the loss (onError is not called)', async () => {
    const calls = new PendingPortCalls();
    const call = held();
    let mapped = 0;
    const done = calls.run(call.start, (err) => {
      mapped++;
      return err;
    });
    calls.failAll(new Error('gone'));
    call.callback()?.(new Error('late EIO'));
    await expect(done).rejects.toThrow('gone');
    expect(mapped).toBe(0);
  });
});

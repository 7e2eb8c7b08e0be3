/**
 * A write in flight when the port goes away: serialport keeps it queued until a reopen, so its
 * callback never comes. The Web Serial writer must fail it once the port's close arrives, instead
 * of leaving the flash waiting for ever.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { NodeWebSerialPort } from '../../../../src/main/flasher/serial/node-web-serial';

class StuckStream extends EventEmitter {
  isOpen = false;
  open(cb: (err: Error | null) => void): void {
    this.isOpen = true;
    cb(null);
  }
  write(_data: Buffer, _cb: (err: Error | null | undefined) => void): boolean {
    return true; // never calls back
  }
  drain(cb: (err: Error | null) => void): void {
    cb(null);
  }
  close(cb: (err: Error | null) => void): void {
    this.isOpen = false;
    cb(null);
  }
}

describe('Web Serial over serialport: the port vanishing mid-write', () => {
  it('fails the waiting write once the close arrives, and marks the port lost', async () => {
    const stream = new StuckStream();
    const port = new NodeWebSerialPort('/dev/ttyFAKE0', {
      createPort: () => stream as never,
    });
    await port.open({ baudRate: 115200 });
    const writer = port.writable?.getWriter();
    const write = writer?.write(Uint8Array.of(1, 2, 3));
    stream.isOpen = false;
    stream.emit('close', new Error('Disconnected'));
    await expect(write).rejects.toThrow(/Disconnected/);
    expect(port.lost).not.toBeNull();
  });
});

/**
 * A port that closes while a write waits: serialport keeps such a write queued until a reopen, so
 * its callback never comes. The link must fail the write with `port_vanished` when the port's
 * close arrives, instead of leaving the flash waiting for ever (a 30 s CI timeout).
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Stm32Link, type PortLike } from '../../../../src/main/flasher/stm32/stm32-link';
import { FlashError } from '../../../../src/shared/flash-state';

/** A port whose writes never call back (queued by serialport after the device went away). */
class StuckPort extends EventEmitter {
  readonly path = '/dev/ttyFAKE0';
  isOpen = true;
  write(_data: Buffer, _cb: (err: Error | null | undefined) => void): void {
    // never calls back
  }
  drain(cb: (err: Error | null) => void): void {
    cb(null);
  }
  set(_flags: unknown, cb: (err: Error | null) => void): void {
    cb(null);
  }
  update(_o: unknown, cb: (err: Error | null) => void): void {
    cb(null);
  }
  close(cb: (err: Error | null) => void): void {
    this.isOpen = false;
    cb(null);
  }
}

describe('STM32 link: the port vanishing mid-write', () => {
  it('fails the waiting write with port_vanished when the close arrives', async () => {
    const port = new StuckPort();
    const link = Stm32Link.attach(port as unknown as PortLike);
    const write = link.write(Uint8Array.of(0x31, 0xce));
    port.isOpen = false;
    port.emit('close', new Error('Disconnected'));
    const err = await write.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FlashError);
    expect((err as FlashError).code).toBe('port_vanished');
    // And stays failed: the next write fails at once.
    await expect(link.write(Uint8Array.of(1))).rejects.toMatchObject({ code: 'port_vanished' });
  });
});

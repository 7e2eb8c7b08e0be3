/** Stm32Link over a real pty pair: buffering, timeouts, and the port going away. */
import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import { SerialPort } from 'serialport';
import { Stm32Link } from '../../../../src/main/flasher/stm32/stm32-link';
import { FlashError } from '../../../../src/shared/flash-state';
import { openPtyPair, type PtyPair } from '../../../support/pty-pair';

async function openRaw(path: string): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  return port;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  return err instanceof FlashError ? err.code : `not a FlashError: ${String(err)}`;
}

describe('Stm32Link', () => {
  let pair: PtyPair;
  let peer: SerialPort;
  let link: Stm32Link | null = null;

  beforeEach(async () => {
    pair = await openPtyPair();
    peer = await openRaw(pair.a);
  });

  afterEach(async () => {
    await link?.close();
    link = null;
    if (peer.isOpen) await new Promise<void>((r) => peer.close(() => r()));
    await pair.close();
  });

  it('opens 8E1 on a pty, sends, and assembles replies split across chunks', async () => {
    link = await Stm32Link.open({ path: pair.b, baudRate: 115200 });
    const seen: number[] = [];
    peer.on('data', (d: Buffer) => seen.push(...d));
    await link.write(Uint8Array.of(0x7f));
    expect(link.bytesWritten).toBe(1);
    const reading = link.readExactly(5, 1000);
    peer.write(Buffer.from([1, 2]));
    setTimeout(() => peer.write(Buffer.from([3, 4, 5, 6])), 20);
    expect(Array.from(await reading)).toEqual([1, 2, 3, 4, 5]);
    expect(Array.from(await link.readExactly(1, 100))).toEqual([6]);
    expect(seen).toEqual([0x7f]);
  });

  it('times out with what it got so far, and can drop stale input', async () => {
    link = await Stm32Link.open({ path: pair.b, baudRate: 115200, parity: 'none' });
    peer.write(Buffer.from([9]));
    const err = await link.readExactly(2, 150, 'test reply').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlashError);
    expect((err as FlashError).code).toBe('timeout');
    expect((err as FlashError).message).toMatch(
      /no test reply .* within 150 ms \(got 1 of 2 bytes\)/,
    );
    link.discardInput();
    peer.write(Buffer.from([7]));
    expect(Array.from(await link.readExactly(1, 500))).toEqual([7]);
  });

  it('reports port_vanished once the device has gone away', async () => {
    link = await Stm32Link.open({ path: pair.b, baudRate: 115200 });
    // Attach the handler now: the read may fail while the pty pair is still closing.
    const reading = codeOf(link.readExactly(1, 300));
    await pair.close();
    // serialport notices a pty hang-up only sometimes (its reader treats EOF as "read again"),
    // so a pending read may just time out; the next write always fails with EIO.
    expect(['port_vanished', 'timeout']).toContain(await reading);
    expect(await codeOf(link.write(Uint8Array.of(1)))).toBe('port_vanished');
    expect(link.isOpen).toBe(false);
    await link.close();
    await link.close(); // idempotent
  });

  it('fails a pending read with cancelled on abort', async () => {
    const ac = new AbortController();
    link = await Stm32Link.open({ path: pair.b, baudRate: 115200, signal: ac.signal });
    const reading = link.readExactly(1, 5000);
    ac.abort();
    expect(await codeOf(reading)).toBe('cancelled');
  });

  it('maps open failures to port_not_found and port_busy', async () => {
    expect(await codeOf(Stm32Link.open({ path: `${pair.b}-missing`, baudRate: 115200 }))).toBe(
      'port_not_found',
    );
    link = await Stm32Link.open({ path: pair.b, baudRate: 115200 });
    expect(await codeOf(Stm32Link.open({ path: pair.b, baudRate: 115200 }))).toBe('port_busy');
  });
});

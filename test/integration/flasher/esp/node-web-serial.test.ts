/**
 * The Web Serial adapter over a real pty (mirrors src/main/flasher/serial/node-web-serial.ts):
 * what a pty can show is data in both directions, in-place baud changes, the ENOTTY fallback for
 * the missing modem lines, and that close really releases the device.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { realpathSync } from 'node:fs';
import { SerialPort } from 'serialport';
import { NodeWebSerialPort } from '../../../../src/main/flasher/serial/node-web-serial';
import { openPtyPair, type PtyPair } from '../../../support/pty-pair';
import { fdsOpenOn } from '../../../support/esp32-sim-harness';

let pair: PtyPair | null = null;
let peer: SerialPort | null = null;
afterEach(async () => {
  const p = peer;
  if (p?.isOpen) await new Promise<void>((resolve) => p.close(() => resolve()));
  peer = null;
  await pair?.close();
  pair = null;
});

async function openPeer(path: string): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  return port;
}

describe('NodeWebSerialPort on a pty', () => {
  it('moves bytes both ways, survives the missing modem lines, and releases the device', async () => {
    pair = await openPtyPair();
    const device = realpathSync(pair.b);
    peer = await openPeer(pair.a);
    const warnings: string[] = [];
    const port = new NodeWebSerialPort(pair.b, { onWarning: (w) => warnings.push(w) });
    await port.open({ baudRate: 115200 });
    expect(fdsOpenOn(device)).toBe(1);

    // A pty has no DTR/RTS: the first attempt warns, later ones are silent no-ops.
    await port.setSignals({ dataTerminalReady: false, requestToSend: true });
    await port.setSignals({ requestToSend: false });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/no modem control lines/);

    const received: Buffer[] = [];
    const p = peer;
    p.on('data', (d: Buffer) => received.push(d));
    const writer = port.writable?.getWriter();
    await writer?.write(new TextEncoder().encode('hello chip'));
    writer?.releaseLock();
    for (let i = 0; i < 50 && Buffer.concat(received).length < 10; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(Buffer.concat(received).toString()).toBe('hello chip');

    await port.setBaudRate(921600);
    p.write(Buffer.from('hello host'));
    const reader = port.readable?.getReader();
    let text = '';
    while (text.length < 10 && reader) {
      const { value } = await reader.read();
      text += Buffer.from(value ?? []).toString();
    }
    reader?.releaseLock();
    expect(text).toBe('hello host');

    await port.close();
    expect(port.readable).toBeNull();
    expect(fdsOpenOn(device)).toBe(0);
    // Released means another program can take it now.
    const other = await openPeer(pair.b);
    await new Promise<void>((resolve) => other.close(() => resolve()));
  });

  it('fails writes at once after the pty disappears instead of queueing them forever', async () => {
    pair = await openPtyPair();
    const device = realpathSync(pair.b);
    const port = new NodeWebSerialPort(pair.b);
    await port.open({ baudRate: 115200 });
    await pair.close();
    const writer = port.writable?.getWriter();
    await expect(writer?.write(Uint8Array.of(1, 2, 3))).rejects.toThrow(
      /EIO|i\/o|bad file descriptor|not open/,
    );
    writer?.releaseLock();
    const again = port.writable?.getWriter();
    await expect(again?.write(Uint8Array.of(4))).rejects.toThrow();
    again?.releaseLock();
    expect(port.lost).not.toBeNull();
    await port.close();
    expect(fdsOpenOn(device)).toBe(0);
  });
  it('tells a port without modem lines before any reset is tried (one warning)', async () => {
    pair = await openPtyPair();
    peer = await openPeer(pair.a);
    const warnings: string[] = [];
    const port = new NodeWebSerialPort(pair.b, { onWarning: (w) => warnings.push(w) });
    await port.open({ baudRate: 115200 });
    // The ESP connect skips its reset pauses on such a port (fast-loader.ts, resetIsNoop).
    expect(await port.hasModemLines()).toBe(false);
    expect(await port.hasModemLines()).toBe(false);
    await port.setSignals({ dataTerminalReady: false });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/no modem control lines/);
    await port.close();
  });
});

/**
 * The Web Serial adapter over serialport's in-memory binding. A pty cannot show DTR/RTS, so this is
 * where the reset sequences are checked (FLASHING.md 0.4-c). The mock binding does not record
 * modem-line changes itself, so the binding port's `set()` is wrapped to see exactly what would
 * reach the OS. (Lives under esp/ because that is where this suite's files go; it mirrors
 * src/main/flasher/serial/node-web-serial.ts.)
 */
import { describe, it, expect, beforeEach } from 'vitest';
import { ClassicReset, CustomReset, Transport } from 'esptool-js';
import { SerialPortMock } from 'serialport';
import {
  NodeWebSerialPort,
  usbInfoFromListing,
} from '../../../../src/main/flasher/serial/node-web-serial';

interface SetCall {
  dtr?: boolean;
  rts?: boolean;
  brk?: boolean;
}

let counter = 0;

function mockPort(options: { enotty?: boolean } = {}): {
  path: string;
  calls: SetCall[];
  streams: SerialPortMock[];
  adapter: NodeWebSerialPort;
  warnings: string[];
} {
  const path = `/dev/mock-esp-${++counter}`;
  SerialPortMock.binding.createPort(path, { record: true });
  const calls: SetCall[] = [];
  const streams: SerialPortMock[] = [];
  const warnings: string[] = [];
  const adapter = new NodeWebSerialPort(path, {
    info: { usbVendorId: 0x10c4, usbProductId: 0xea60 },
    onWarning: (m) => warnings.push(m),
    createPort: (o) => {
      const stream = new SerialPortMock({ ...o, autoOpen: false });
      stream.on('open', () => {
        const binding = stream.port;
        if (!binding) return;
        const original = binding.set.bind(binding);
        binding.set = async (s: SetCall) => {
          calls.push({ dtr: s.dtr, rts: s.rts, brk: s.brk });
          if (options.enotty) throw new Error('Error: Inappropriate ioctl for device, cannot set');
          return original(s);
        };
      });
      streams.push(stream);
      return stream;
    },
  });
  return { path, calls, streams, adapter, warnings };
}

beforeEach(() => {
  SerialPortMock.binding.reset();
});

describe('NodeWebSerialPort', () => {
  it('drives the ClassicReset sequence with both lines in every call', async () => {
    const { adapter, calls } = mockPort();
    const transport = new Transport(adapter);
    await transport.connect(115200);
    await new ClassicReset(transport, 50).reset();
    // esptool-js ClassicReset: (DTR=0,RTS=1) 100 ms (DTR=1,RTS=0) delay (DTR=0,RTS=0) (FLASHING.md 1.2)
    expect(calls).toEqual([
      { dtr: false, rts: true, brk: false },
      { dtr: true, rts: false, brk: false },
      { dtr: false, rts: false, brk: false },
    ]);
    await adapter.close();
  });

  it('pulses RTS for the hard reset without touching DTR (R1|W100|R0)', async () => {
    const { adapter, calls } = mockPort();
    const transport = new Transport(adapter);
    await transport.connect(115200);
    await transport.setSignals(false, false);
    calls.length = 0;
    await new CustomReset(transport, 'R1|W100|R0').reset();
    expect(calls.map((c) => [c.dtr, c.rts])).toEqual([
      [false, true],
      [false, true],
      [false, false],
      [false, false],
    ]);
    await adapter.close();
  });

  it('keeps the other line when only one is given', async () => {
    const { adapter, calls } = mockPort();
    await adapter.open({ baudRate: 115200 });
    await adapter.setSignals({ dataTerminalReady: true, requestToSend: false });
    await adapter.setSignals({ requestToSend: true });
    await adapter.setSignals({ dataTerminalReady: false });
    expect(calls.map((c) => [c.dtr, c.rts])).toEqual([
      [true, false],
      [true, true],
      [false, true],
    ]);
    expect(adapter.signals).toEqual({ dtr: false, rts: true });
    await adapter.close();
  });

  it('swallows ENOTTY once with a warning and then stops calling the ioctl', async () => {
    const { adapter, calls, warnings } = mockPort({ enotty: true });
    await adapter.open({ baudRate: 115200 });
    await adapter.setSignals({ dataTerminalReady: false, requestToSend: true });
    await adapter.setSignals({ dataTerminalReady: true });
    await adapter.setSignals({ requestToSend: false });
    expect(calls).toHaveLength(1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/no reset lines/);
    // The requested state is still tracked.
    expect(adapter.signals).toEqual({ dtr: true, rts: false });
    await adapter.close();
  });

  it('passes other set() errors through', async () => {
    const { adapter, streams } = mockPort();
    await adapter.open({ baudRate: 115200 });
    const binding = streams[0]?.port;
    if (!binding) throw new Error('no binding');
    binding.set = async () => {
      throw new Error('Error: Input/output error, cannot set');
    };
    await expect(adapter.setSignals({ requestToSend: true })).rejects.toThrow(/Input\/output/);
    await adapter.close();
  });

  it('delivers received bytes through the same readable and writes through writable', async () => {
    const { adapter, streams } = mockPort();
    await adapter.open({ baudRate: 115200 });
    const readable = adapter.readable;
    expect(readable).not.toBeNull();
    const binding = streams[0]?.port;
    if (!binding || !readable) throw new Error('not open');

    binding.emitData(Buffer.from([1, 2, 3]));
    let reader = readable.getReader();
    expect(Array.from((await reader.read()).value ?? [])).toEqual([1, 2, 3]);
    reader.releaseLock();
    // Transport takes a new reader for every chunk: it must be the same stream.
    expect(adapter.readable).toBe(readable);
    binding.emitData(Buffer.from([4]));
    reader = readable.getReader();
    expect(Array.from((await reader.read()).value ?? [])).toEqual([4]);
    reader.releaseLock();

    const writer = adapter.writable?.getWriter();
    await writer?.write(Uint8Array.from([0xc0, 0x00, 0xc0]));
    writer?.releaseLock();
    expect(Array.from(binding.recording)).toEqual([0xc0, 0x00, 0xc0]);
    await adapter.close();
  });

  it('ignores data that arrives after the reader cancelled', async () => {
    const { adapter, streams } = mockPort();
    await adapter.open({ baudRate: 115200 });
    const reader = adapter.readable?.getReader();
    await reader?.cancel();
    expect(() => streams[0]?.port?.emitData(Buffer.from([9, 9]))).not.toThrow();
    await new Promise((r) => setTimeout(r, 20));
    await adapter.close();
  });

  it('changes the baud rate in place and reports VID/PID', async () => {
    const { adapter, streams } = mockPort();
    await adapter.open({ baudRate: 115200 });
    await adapter.setBaudRate(921600);
    expect(streams).toHaveLength(1);
    expect((await streams[0]?.port?.getBaudRate())?.baudRate).toBe(921600);
    expect(adapter.getInfo()).toEqual({ usbVendorId: 0x10c4, usbProductId: 0xea60 });
    await adapter.close();
  });

  it('nulls the streams on close, ends a pending read, and can open again', async () => {
    const { adapter } = mockPort();
    await adapter.open({ baudRate: 115200 });
    const reader = adapter.readable?.getReader();
    const pending = reader?.read();
    await adapter.close();
    expect((await pending)?.done).toBe(true);
    expect(adapter.readable).toBeNull();
    expect(adapter.writable).toBeNull();
    expect(adapter.isOpen).toBe(false);
    expect(adapter.lost).toBeNull();
    await adapter.close(); // idempotent
    await adapter.open({ baudRate: 115200 });
    expect(adapter.isOpen).toBe(true);
    await adapter.close();
  });

  it('refuses a second open and reports a failed open', async () => {
    const { adapter } = mockPort();
    await adapter.open({ baudRate: 115200 });
    await expect(adapter.open({ baudRate: 115200 })).rejects.toThrow(/already open/);
    await adapter.close();
    const missing = new NodeWebSerialPort('/dev/does-not-exist', {
      createPort: (o) => new SerialPortMock({ ...o, autoOpen: false }),
    });
    await expect(missing.open({ baudRate: 115200 })).rejects.toThrow(/does not exist/);
    expect(missing.wasOpened).toBe(false);
  });

  it('marks the port lost and errors the readable when it closes underneath', async () => {
    const { adapter, streams } = mockPort();
    await adapter.open({ baudRate: 115200 });
    const reader = adapter.readable?.getReader();
    const pending = reader?.read();
    const gone = Object.assign(new Error('device disconnected'), { disconnected: true });
    await new Promise<void>((resolve) => streams[0]?.close(() => resolve(), gone));
    await expect(pending).rejects.toThrow(/disconnected/);
    expect(adapter.lost?.message).toMatch(/disconnected/);
    await adapter.close();
  });
});

describe('usbInfoFromListing', () => {
  it('parses serialport hex strings', () => {
    expect(usbInfoFromListing({ vendorId: '303a', productId: '1001' })).toEqual({
      usbVendorId: 0x303a,
      usbProductId: 0x1001,
    });
    expect(usbInfoFromListing({})).toEqual({});
  });
});

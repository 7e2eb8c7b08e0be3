import { SerialPort, SerialPortMock } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { parseElfSymbols } from '../../../../src/main/firmware/elf-symbols';
import {
  forwardMonitorEvents,
  handleMonitorCommand,
  type MonitorServerMessage,
} from '../../../../src/main/flasher/monitor/monitor-commands';
import type { PanicInfo } from '../../../../src/main/flasher/monitor/panic-decoder';
import type { CloseInfo } from '../../../../src/main/flasher/monitor/serial-link';
import { SerialMonitor } from '../../../../src/main/flasher/monitor/serial-monitor';
import { HubError } from '../../../../src/shared/errors';
import { buildElf32 } from '../../../support/elf32-writer';
import { openPtyPair, type PtyPair } from '../../../support/pty-pair';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

async function setup(opts: ConstructorParameters<typeof SerialMonitor>[0] = {}) {
  const pair: PtyPair = await openPtyPair();
  cleanups.push(() => pair.close());
  const peer = new SerialPort({ path: pair.a, baudRate: 115200, autoOpen: false });
  await new Promise<void>((res, rej) => peer.open((e) => (e ? rej(e) : res())));
  peer.on('error', () => {});
  cleanups.push(() => new Promise<void>((r) => (peer.isOpen ? peer.close(() => r()) : r())));
  const received: Buffer[] = [];
  peer.on('data', (d: Buffer) => received.push(d));
  const monitor = new SerialMonitor(opts);
  cleanups.push(() => monitor.close());
  return { pair, peer, monitor, received };
}

function collect<T>(emitter: { on(e: string, f: (v: T) => void): unknown }, event: string): T[] {
  const out: T[] = [];
  emitter.on(event, (v: T) => out.push(v));
  return out;
}

async function until(cond: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function hubErrorOf(p: Promise<unknown>): Promise<HubError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(HubError);
    return e as HubError;
  }
  throw new Error('expected a HubError');
}

describe('SerialMonitor over a pty', () => {
  it('streams data and lines, flushes a partial line after idle, keeps scrollback', async () => {
    const { pair, peer, monitor } = await setup({ scrollbackBytes: 32 });
    await monitor.open({ path: pair.b, baud: 115200 });
    const lines = collect<string>(monitor, 'line');
    const chunks = collect<Buffer>(monitor, 'data');
    peer.write('I (10) boot: hello\r\nsecond line\nmos> ');
    await until(() => lines.length === 2, 3000, 'two lines');
    expect(lines).toEqual(['I (10) boot: hello', 'second line']);
    await until(() => lines.length === 3, 1000, 'the prompt to flush');
    expect(lines[2]).toBe('mos> ');
    expect(Buffer.concat(chunks).toString()).toBe('I (10) boot: hello\r\nsecond line\nmos> ');
    const sb = monitor.scrollback().toString();
    expect(sb).toBe('I (10) boot: hello\r\nsecond line\nmos> '.slice(-32));
  });

  it('writes input and changes baud; bad input is a coded error and the session survives', async () => {
    const { pair, monitor, received } = await setup();
    await monitor.open({ path: pair.b, baud: 115200 });
    await monitor.write('help\n');
    await monitor.write(Uint8Array.from([0x00, 0xff]));
    await until(() => Buffer.concat(received).length === 7, 3000, 'input at the peer');
    expect(Buffer.concat(received)).toEqual(
      Buffer.concat([Buffer.from('help\n'), Buffer.from([0, 0xff])]),
    );
    await monitor.setBaud(921600);
    expect(monitor.baud).toBe(921600);
    expect((await hubErrorOf(monitor.setBaud(12))).kind).toBe('validation_failed');
    expect((await hubErrorOf(monitor.setBaud('fast'))).kind).toBe('validation_failed');
    const big = new SerialMonitor({ maxWriteBytes: 4 });
    expect((await hubErrorOf(big.write('x'))).kind).toBe('conflict'); // not open
    expect(monitor.baud).toBe(921600);
    await monitor.write('still alive\n');
  });

  it('reset on a pty is a warning, not a crash', async () => {
    const { pair, monitor } = await setup();
    await monitor.open({ path: pair.b, baud: 115200 });
    const warnings = collect<string>(monitor, 'warning');
    const r = await monitor.reset();
    expect(r.ok).toBe(false);
    expect(r.warning).toMatch(/no DTR\/RTS/);
    expect(warnings).toEqual([r.warning]);
    expect(monitor.isOpen).toBe(true);
  });

  it('reports an unplug (the far side goes away) as a clean close with a reason', async () => {
    const { pair, peer, monitor } = await setup();
    await monitor.open({ path: pair.b, baud: 115200 });
    const closes = collect<CloseInfo>(monitor, 'close');
    const lines = collect<string>(monitor, 'line');
    peer.write('last words without newline');
    await until(() => monitor.scrollback().length > 0, 3000, 'data');
    await pair.close();
    await until(() => closes.length === 1, 3000, 'close event');
    expect(closes[0]?.reason).toBe('unplugged');
    expect(closes[0]?.message).toMatch(/disconnected|disappeared/);
    expect(lines).toContain('last words without newline');
    expect(monitor.isOpen).toBe(false);
    expect((await hubErrorOf(monitor.write('x'))).kind).toBe('conflict');
    // The monitor can be reused on another port afterwards.
    const other = await openPtyPair();
    cleanups.push(() => other.close());
    await monitor.open({ path: other.b, baud: 9600 });
    expect(monitor.isOpen).toBe(true);
  });

  it('close() is a normal close and idempotent', async () => {
    const { pair, monitor } = await setup();
    await monitor.open({ path: pair.b, baud: 115200 });
    const closes = collect<CloseInfo>(monitor, 'close');
    await monitor.close();
    await monitor.close();
    expect(closes).toEqual([{ reason: 'closed', message: `port ${pair.b} closed` }]);
  });

  it('detects a panic end to end and decodes it with the firmware symbols', async () => {
    const symbols = parseElfSymbols(
      buildElf32({
        symbols: [
          { name: 'app_main', value: 0x400d1b20, size: 0x40 },
          { name: 'main_task', value: 0x400d0f40, size: 0x40 },
        ],
      }),
    );
    const { pair, peer, monitor } = await setup({ symbols });
    await monitor.open({ path: pair.b, baud: 115200 });
    const panics = collect<PanicInfo>(monitor, 'panic');
    peer.write(
      [
        'I (312) app: starting',
        "Guru Meditation Error: Core  1 panic'ed (StoreProhibited). Exception was unhandled.",
        'Core  1 register dump:',
        'PC      : 0x400d1b3a  PS      : 0x00060730  A0      : 0x800d0f6c  A1      : 0x3ffb1f50',
        'EXCVADDR: 0x00000010  LBEG    : 0x400014fd  LEND    : 0x4000150d  LCOUNT  : 0xffffffff',
        '',
        'Backtrace: 0x400d1b37:0x3ffb1f50 0x400d0f69:0x3ffb1f70 |<-CORRUPTED',
        '',
        'Rebooting...',
        'ets Jun  8 2016 00:22:57',
        '',
      ].join('\r\n'),
    );
    await until(() => panics.length === 1, 3000, 'panic event');
    const p = panics[0]!;
    expect(p.reason).toBe('StoreProhibited');
    expect(p.core).toBe(1);
    expect(p.fn).toBe('app_main');
    expect(p.faultAddress).toBe(0x10);
    expect(p.corrupted).toBe(true);
    expect(p.frames.map((f) => f.fn)).toEqual(['app_main', 'main_task']);

    // Without an end marker the block is decoded after the idle pause; no symbols -> no names.
    monitor.setSymbols(null);
    peer.write('abort() was called at PC 0x400d1b40 on core 0\r\n');
    await until(() => panics.length === 2, 3000, 'idle-flushed panic');
    expect(panics[1]?.kind).toBe('abort');
    expect(panics[1]?.fn).toBeUndefined();
  });

  it('maps open failures to coded errors: missing, already open elsewhere, bad input', async () => {
    const { pair, monitor } = await setup();
    const missing = await hubErrorOf(monitor.open({ path: `${pair.b}-missing`, baud: 115200 }));
    expect(missing.kind).toBe('port_not_found');
    expect((await hubErrorOf(monitor.open({ path: pair.b, baud: 0 }))).kind).toBe(
      'validation_failed',
    );
    expect((await hubErrorOf(monitor.open('nonsense'))).kind).toBe('validation_failed');
    await monitor.open({ path: pair.b, baud: 115200 });
    expect((await hubErrorOf(monitor.open({ path: pair.b, baud: 115200 }))).kind).toBe('conflict');
    // Another process-level user of the same tty is refused by the OS lock.
    const second = new SerialMonitor();
    const busy = await hubErrorOf(second.open({ path: pair.b, baud: 115200 }));
    expect(busy.kind).toBe('port_busy');
    expect(monitor.isOpen).toBe(true);
  });
});

describe('SerialMonitor reset sequence (mock binding: ptys have no modem lines)', () => {
  it('pulses RTS with DTR held low: (dtr false, rts true), ~100 ms, (dtr false, rts false)', async () => {
    SerialPortMock.binding.createPort('/dev/ttyMOCK0', { echo: false, record: true });
    const monitor = new SerialMonitor({ mockBinding: true });
    await monitor.open({ path: '/dev/ttyMOCK0', baud: 115200 });
    const calls: { at: number; opts: unknown }[] = [];
    // Observe what reaches the binding (the library object, not our code).
    const link = (
      monitor as unknown as { link: { port: { port: { set(o: unknown): Promise<void> } } } }
    ).link;
    const binding = link.port.port;
    const original = binding.set.bind(binding);
    binding.set = async (o: unknown) => {
      calls.push({ at: Date.now(), opts: o });
      return original(o);
    };
    expect(await monitor.reset()).toEqual({ ok: true });
    expect(calls.map((c) => c.opts)).toEqual([
      expect.objectContaining({ dtr: false, rts: true, brk: false }),
      expect.objectContaining({ dtr: false, rts: false, brk: false }),
    ]);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(90);
    await monitor.close();
    SerialPortMock.binding.reset();
  });
});

describe('monitor WebSocket commands', () => {
  it('runs valid frames, answers bad ones with coded errors and forwards events', async () => {
    const { pair, peer, monitor, received } = await setup();
    await monitor.open({ path: pair.b, baud: 115200 });
    const sent: MonitorServerMessage[] = [];
    const stop = forwardMonitorEvents(monitor, (m) => sent.push(m), { lines: true });

    expect(await handleMonitorCommand(monitor, '{"type":"write","data":"AT\\r\\n"}')).toEqual({
      type: 'ok',
      request: 'write',
    });
    expect(
      await handleMonitorCommand(monitor, {
        type: 'write',
        data: Buffer.from([1, 2]).toString('base64'),
        encoding: 'base64',
      }),
    ).toEqual({ type: 'ok', request: 'write' });
    await until(() => Buffer.concat(received).length === 6, 3000, 'peer input');
    expect(Buffer.concat(received)).toEqual(Buffer.from([0x41, 0x54, 0x0d, 0x0a, 1, 2]));

    expect(await handleMonitorCommand(monitor, { type: 'baud', baud: 460800 })).toEqual({
      type: 'ok',
      request: 'baud',
    });
    expect((await handleMonitorCommand(monitor, { type: 'reset' })).type).toBe('warning');
    expect(await handleMonitorCommand(monitor, '{not json')).toMatchObject({
      type: 'error',
      code: 4001,
    });
    expect(await handleMonitorCommand(monitor, { type: 'baud', baud: -1 })).toMatchObject({
      type: 'error',
      code: 4002,
    });
    expect(await handleMonitorCommand(monitor, { type: 'shutdown' })).toMatchObject({
      type: 'error',
      code: 4002,
    });
    expect(
      await handleMonitorCommand(monitor, { type: 'write', data: '***', encoding: 'base64' }),
    ).toMatchObject({ type: 'error', code: 4002 });
    expect(await handleMonitorCommand(monitor, 'x'.repeat(200_000))).toMatchObject({
      type: 'error',
      code: 413,
    });

    peer.write('OK\r\n');
    await until(() => sent.some((m) => m.type === 'line'), 3000, 'line frame');
    expect(sent.find((m) => m.type === 'line')).toEqual({ type: 'line', line: 'OK' });
    const sb = await handleMonitorCommand(monitor, { type: 'scrollback' });
    expect(sb.type === 'scrollback' && Buffer.from(sb.base64, 'base64').toString()).toBe('OK\r\n');

    await monitor.close();
    expect(sent.at(-1)).toMatchObject({ type: 'close', reason: 'closed' });
    stop();
    expect(monitor.listenerCount('close')).toBe(0);
    expect(await handleMonitorCommand(monitor, { type: 'reset' })).toMatchObject({
      type: 'error',
      code: 409,
    });
  });
});

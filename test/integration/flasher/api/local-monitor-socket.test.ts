/**
 * The serial monitor WebSocket through a real hub against a pty peer: lines out, input in, baud,
 * reset on a port without modem lines, panic decoding with an uploaded ELF, one owner per port
 * (monitor vs flash job, monitor vs monitor), release on close and on unplug, refused upgrades.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SerialPort } from 'serialport';
import WebSocket from 'ws';
import type { MonitorServerMessage } from '../../../../src/main/flasher/monitor/monitor-commands';
import { buildElf32 } from '../../../support/elf32-writer';
import { fdsOpenOn, firmwareLike, startSim } from '../../../support/esp32-sim-harness';
import { openPtyPair, type PtyPair } from '../../../support/pty-pair';
import { realpathSync } from 'node:fs';
import { until } from '../jobs/job-harness';
import { form, startFlasherHub, type FlasherHub } from './flasher-hub';

let t: FlasherHub;
const cleanups: (() => Promise<void>)[] = [];
beforeAll(async () => {
  t = await startFlasherHub();
});
afterAll(async () => {
  await t.stop();
});
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

interface Peer {
  pair: PtyPair;
  port: SerialPort;
  received: () => string;
}

async function peer(): Promise<Peer> {
  const pair = await openPtyPair();
  cleanups.push(() => pair.close());
  const port = new SerialPort({ path: pair.a, baudRate: 115200, autoOpen: false });
  await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
  port.on('error', () => {});
  cleanups.push(() => new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r())));
  const chunks: Buffer[] = [];
  port.on('data', (d: Buffer) => chunks.push(d));
  return { pair, port, received: () => Buffer.concat(chunks).toString() };
}

interface Client {
  ws: WebSocket;
  msgs: MonitorServerMessage[];
  next(
    pred: (m: MonitorServerMessage) => boolean,
    timeoutMs?: number,
  ): Promise<MonitorServerMessage>;
  send(v: unknown): void;
  closed: Promise<number>;
}

function monitorUrl(port: string, query = '', key: string | null = t.key): string {
  const k = key === null ? '' : `&access_token=${key}`;
  return `${t.ws}/api/v2/local/monitor?port=${encodeURIComponent(port)}${k}${query}`;
}

async function connect(url: string): Promise<Client> {
  const ws = new WebSocket(url);
  const msgs: MonitorServerMessage[] = [];
  ws.on('message', (d) => msgs.push(JSON.parse(d.toString()) as MonitorServerMessage));
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  cleanups.push(async () => {
    ws.close();
    await closed;
  });
  return {
    ws,
    msgs,
    closed,
    send: (v) => ws.send(typeof v === 'string' ? v : JSON.stringify(v)),
    async next(pred, timeoutMs = 3000) {
      await until(() => msgs.some(pred), timeoutMs, 'monitor message');
      return msgs.find(pred)!;
    },
  };
}

/** The HTTP answer to a refused upgrade. */
async function refused(
  url: string,
): Promise<{ status: number; body: { error: { code: number; message: string } } }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => reject(new Error('upgrade was accepted')));
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    ws.once('error', () => {});
  });
}

describe('WS /api/v2/local/monitor', () => {
  it('streams lines, takes input, baud and reset; releases the port when the socket closes', async () => {
    const p = await peer();
    const c = await connect(monitorUrl(p.pair.b, '&baud=115200'));
    const registry = t.hub.services().flasher.registry;
    expect(registry.owner(p.pair.b)).toMatchObject({ kind: 'monitor' });

    p.port.write('I (10) boot: hello\r\nsecond line\n');
    await c.next((m) => m.type === 'line' && m.line === 'second line');
    expect(
      c.msgs.filter((m) => m.type === 'line').map((m) => (m as { line: string }).line),
    ).toEqual(['I (10) boot: hello', 'second line']);

    c.send({ type: 'write', data: 'help\n' });
    await c.next((m) => m.type === 'ok' && m.request === 'write');
    await until(() => p.received() === 'help\n', 3000, 'input at the board');

    c.send({ type: 'baud', baud: 921600 });
    await c.next((m) => m.type === 'ok' && m.request === 'baud');

    c.send({ type: 'reset' });
    const warning = await c.next((m) => m.type === 'warning');
    expect((warning as { message: string }).message).toMatch(/no DTR\/RTS/);

    c.send('{not json');
    expect(await c.next((m) => m.type === 'error')).toMatchObject({ code: 4001 });
    c.send({ type: 'baud', baud: 'fast' });
    expect(await c.next((m) => m.type === 'error' && m.code === 4002)).toBeTruthy();

    // Still working after the bad frames.
    p.port.write('after\n');
    await c.next((m) => m.type === 'line' && m.line === 'after');

    c.ws.close();
    await c.closed;
    await until(() => registry.owner(p.pair.b) === null, 3000, 'lease released');
    await until(() => fdsOpenOn(realpathSync(p.pair.b)) === 0, 3000, 'port closed');
  });

  it('one owner per port: a second monitor and a flash job are refused with 409 naming the monitor', async () => {
    const p = await peer();
    const c = await connect(monitorUrl(p.pair.b));
    const again = await refused(monitorUrl(p.pair.b));
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe(4093);
    expect(again.body.error.message).toMatch(/serial monitor m[0-9a-f]+/);
    const flash = await t.upload<{ error: { code: number; message: string } }>(
      '/api/v2/local/flash',
      form([['app.bin@0x10000', firmwareLike(4096)]], {
        options: JSON.stringify({ port: p.pair.b }),
      }),
    );
    expect(flash.status).toBe(409);
    expect(flash.body.error.message).toMatch(/serial monitor/);
    c.ws.close();
    await c.closed;
  });

  it('is refused while a flash job holds the port', async () => {
    const rig = await startSim({ throttle: true, baud: 115200 });
    cleanups.push(() => rig.close());
    const r = await t.json<{ job: string }>('POST', '/api/v2/local/flash', {
      port: rig.host,
      baud: 115200,
      images: [{ data: Buffer.from(firmwareLike(64 * 1024)).toString('base64'), address: 0x10000 }],
    });
    expect(r.status).toBe(200);
    const busy = await refused(monitorUrl(rig.host));
    expect(busy.status).toBe(409);
    expect(busy.body.error.message).toContain(`flash job ${r.body.job}`);
    await t.json('DELETE', `/api/v2/local/jobs/${r.body.job}`);
    await until(
      () => t.hub.services().flasher.registry.owner(rig.host) === null,
      10_000,
      'job end',
    );
  });

  it('decodes panics with an uploaded ELF; the board going away ends the session', async () => {
    const p = await peer();
    const c = await connect(monitorUrl(p.pair.b));
    const elf = buildElf32({
      symbols: [
        { name: 'app_main', value: 0x400d1b20, size: 0x40 },
        { name: 'main_task', value: 0x400d0f40, size: 0x40 },
      ],
    });
    const up = await t.upload<{ symbols: number; active: boolean }>(
      '/api/v2/local/monitor/symbols',
      form([['firmware.elf', elf]], { port: p.pair.b }, 'elf'),
    );
    expect(up.status, up.text).toBe(200);
    expect(up.body).toMatchObject({ symbols: 2, active: true });
    p.port.write(
      [
        "Guru Meditation Error: Core  1 panic'ed (StoreProhibited). Exception was unhandled.",
        'PC      : 0x400d1b3a  PS      : 0x00060730  A0      : 0x800d0f6c  A1      : 0x3ffb1f50',
        'Backtrace: 0x400d1b37:0x3ffb1f50 0x400d0f69:0x3ffb1f70',
        '',
        'Rebooting...',
        '',
      ].join('\r\n'),
    );
    const panic = await c.next((m) => m.type === 'panic');
    expect(panic).toMatchObject({
      panic: {
        reason: 'StoreProhibited',
        fn: 'app_main',
        frames: [{ fn: 'app_main' }, { fn: 'main_task' }],
      },
    });

    const bad = await t.upload(
      '/api/v2/local/monitor/symbols',
      form([['x.elf', new Uint8Array(10)]], { port: p.pair.b }, 'elf'),
    );
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 4003 } });
    const noPort = await t.upload(
      '/api/v2/local/monitor/symbols',
      form([['fw.elf', elf]], {}, 'elf'),
    );
    expect(noPort).toMatchObject({ status: 400, body: { error: { code: 4002 } } });
    const noElf = await t.upload('/api/v2/local/monitor/symbols', form([], { port: p.pair.b }));
    expect(noElf).toMatchObject({ status: 400, body: { error: { code: 4002 } } });
    const notMultipart = await t.json('POST', '/api/v2/local/monitor/symbols', { port: p.pair.b });
    expect(notMultipart).toMatchObject({ status: 400, body: { error: { code: 400 } } });

    await p.pair.close(); // unplug
    const close = await c.next((m) => m.type === 'close', 5000);
    expect(close).toMatchObject({ reason: 'unplugged' });
    expect(await c.closed).toBe(1011);
    await until(
      () => t.hub.services().flasher.registry.owner(p.pair.b) === null,
      3000,
      'lease released',
    );
  });

  it('refuses bad upgrades before touching the port', async () => {
    const p = await peer();
    expect((await refused(monitorUrl(p.pair.b, '', null))).status).toBe(401);
    expect((await refused(monitorUrl(p.pair.b, '', 'wrong'))).status).toBe(401);
    const missing = await refused(monitorUrl('/dev/ttyNOPE7'));
    expect(missing).toMatchObject({ status: 404, body: { error: { code: 4044 } } });
    const baud = await refused(monitorUrl(p.pair.b, '&baud=fast'));
    expect(baud).toMatchObject({ status: 400, body: { error: { code: 4002 } } });
    const noPort = await refused(`${t.ws}/api/v2/local/monitor?access_token=${t.key}`);
    expect(noPort.status).toBe(400);
    expect(t.hub.services().flasher.registry.list()).toEqual([]);
    // And then a good one works.
    const c = await connect(monitorUrl(p.pair.b));
    p.port.write('ok\n');
    await c.next((m) => m.type === 'line' && m.line === 'ok');
  });
});

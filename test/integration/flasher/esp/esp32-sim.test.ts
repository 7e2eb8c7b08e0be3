/**
 * The ESP32 simulator checked at the byte level with a minimal client (our SLIP codec over a pty),
 * against the protocol facts of FLASHING.md 2: the things esptool-js never exercises (ROM flash
 * commands, ROM MD5 in ASCII, SPI_ATTACH rules, READ_FLASH windowing) and the timing of `throttle`.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { SlipDecoder, slipEncode } from '../../../../src/main/flasher/esp/slip';
import { OP, wireMs } from '../../../support/esp32-sim';
import { openPtyPair, type PtyPair } from '../../../support/pty-pair';
import { startSim, type SimRig } from '../../../support/esp32-sim-harness';

interface Reply {
  op: number;
  value: number;
  data: Uint8Array;
}

/** A bare-bones bootloader client: send a command, collect SLIP frames. */
class RawClient {
  private frames: Uint8Array[] = [];
  private waiters: (() => void)[] = [];
  private decoder = new SlipDecoder();

  private constructor(readonly port: SerialPort) {
    port.on('data', (chunk: Buffer) => {
      for (const ev of this.decoder.push(chunk)) if (ev.kind === 'frame') this.frames.push(ev.data);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(path: string): Promise<RawClient> {
    const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    return new RawClient(port);
  }

  send(op: number, data: Uint8Array = new Uint8Array(0), chk = 0): void {
    const pkt = new Uint8Array(8 + data.length);
    const view = new DataView(pkt.buffer);
    pkt[0] = 0;
    pkt[1] = op;
    view.setUint16(2, data.length, true);
    view.setUint32(4, chk, true);
    pkt.set(data, 8);
    this.port.write(Buffer.from(slipEncode(pkt)));
  }

  async frame(timeoutMs = 1000): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no frame');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.frames.shift() ?? new Uint8Array(0);
  }

  async reply(timeoutMs = 1000): Promise<Reply> {
    const f = await this.frame(timeoutMs);
    expect(f[0]).toBe(0x01);
    const view = new DataView(f.buffer, f.byteOffset, f.length);
    expect(view.getUint16(2, true)).toBe(f.length - 8);
    return { op: f[1] ?? -1, value: view.getUint32(4, true), data: f.subarray(8) };
  }

  async command(op: number, data?: Uint8Array, chk?: number): Promise<Reply> {
    this.send(op, data, chk);
    return this.reply();
  }

  /** True when nothing arrives for `ms`. */
  async quiet(ms: number): Promise<boolean> {
    try {
      await this.frame(ms);
      return false;
    } catch {
      return true;
    }
  }

  async close(): Promise<void> {
    if (this.port.isOpen) await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }
}

const u32s = (...words: number[]): Uint8Array => {
  const out = new Uint8Array(words.length * 4);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => view.setUint32(i * 4, w >>> 0, true));
  return out;
};
const SYNC = Uint8Array.from([0x07, 0x07, 0x12, 0x20, ...new Array<number>(32).fill(0x55)]);
const checksum = (d: Uint8Array): number => d.reduce((c, b) => c ^ b, 0xef);
const block = (payload: Uint8Array, seq: number): Uint8Array => {
  const out = new Uint8Array(16 + payload.length);
  out.set(u32s(payload.length, seq, 0, 0));
  out.set(payload, 16);
  return out;
};

let rig: SimRig | null = null;
let client: RawClient | null = null;
afterEach(async () => {
  await client?.close();
  client = null;
  await rig?.close();
  rig = null;
});

async function rom(options: Parameters<typeof startSim>[0] = {}): Promise<RawClient> {
  rig = await startSim(options);
  client = await RawClient.open(rig.host);
  return client;
}

/** Uploads a fake stub into IRAM/DRAM and jumps to it; returns after "OHAI". */
async function startStub(c: RawClient): Promise<void> {
  const text = new Uint8Array(0x2000).fill(0x11);
  expect((await c.command(OP.MEM_BEGIN, u32s(text.length, 2, 0x1800, 0x400a8000))).data).toEqual(
    Uint8Array.of(0, 0, 0, 0),
  );
  for (let seq = 0; seq < 2; seq++) {
    const part = text.subarray(seq * 0x1800, (seq + 1) * 0x1800);
    expect((await c.command(OP.MEM_DATA, block(part, seq), checksum(part))).data[0]).toBe(0);
  }
  expect((await c.command(OP.MEM_END, u32s(0, 0x400a8010))).data).toEqual(
    Uint8Array.of(0, 0, 0, 0),
  );
  expect(new TextDecoder().decode(await c.frame())).toBe('OHAI');
}

describe('Esp32Sim ROM loader', () => {
  it('answers SYNC 8 times with a non-zero value and 4 status bytes, ignoring noise before it', async () => {
    const c = await rom();
    c.port.write(Buffer.from('line noise \x00\xff\xdb'));
    c.send(OP.SYNC, SYNC);
    for (let i = 0; i < 8; i++) {
      const r = await c.reply();
      expect(r).toMatchObject({ op: OP.SYNC, value: 0x20120707 });
      expect(Array.from(r.data)).toEqual([0, 0, 0, 0]);
    }
    expect(await c.quiet(150)).toBe(true);
  });

  it('answers GET_SECURITY_INFO once, with a mismatched op and status 1/5 (unsupported)', async () => {
    const c = await rom();
    const r = await c.command(OP.GET_SECURITY_INFO);
    expect(r.op).not.toBe(OP.GET_SECURITY_INFO);
    expect(Array.from(r.data)).toEqual([1, 5, 0, 0]);
    expect(await c.quiet(150)).toBe(true);
  });

  it('reads the chip magic, MAC efuses and UART divider', async () => {
    const c = await rom({ mac: '01:23:45:67:89:ab' });
    expect((await c.command(OP.READ_REG, u32s(0x40001000))).value).toBe(0x00f01d83);
    expect((await c.command(OP.READ_REG, u32s(0x3ff5a004))).value).toBe(0x456789ab);
    expect((await c.command(OP.READ_REG, u32s(0x3ff5a008))).value).toBe(0x0123);
    expect((await c.command(OP.READ_REG, u32s(0x3ff40014))).value).toBe(347);
  });

  it('emulates the SPI flash ID command', async () => {
    const c = await rom({ flashSize: '16MB' });
    const base = 0x3ff42000;
    await c.command(OP.WRITE_REG, u32s(base + 0x24, (7 << 28) | 0x9f, 0xffffffff, 0));
    await c.command(OP.WRITE_REG, u32s(base, 1 << 18, 0xffffffff, 0));
    expect((await c.command(OP.READ_REG, u32s(base))).value & (1 << 18)).toBe(0);
    expect((await c.command(OP.READ_REG, u32s(base + 0x80))).value).toBe(0x1840ef);
  });

  it('needs SPI_ATTACH before flash commands, checks checksums, and reports MD5 as ASCII hex', async () => {
    const c = await rom();
    expect(
      Array.from((await c.command(OP.FLASH_BEGIN, u32s(0x1000, 1, 0x400, 0x2000))).data),
    ).toEqual([1, 8, 0, 0]);
    expect((await c.command(OP.SPI_ATTACH, u32s(0, 0))).data[0]).toBe(0);
    expect((await c.command(OP.FLASH_BEGIN, u32s(0x1000, 1, 0x400, 0x2000))).data[0]).toBe(0);
    const payload = new Uint8Array(0x400).map((_, i) => i & 0xff);
    const bad = await c.command(OP.FLASH_DATA, block(payload, 0), checksum(payload) ^ 1);
    expect(Array.from(bad.data)).toEqual([1, 7, 0, 0]);
    expect((await c.command(OP.FLASH_DATA, block(payload, 0), checksum(payload))).data[0]).toBe(0);
    expect(
      Buffer.compare(rig?.sim.flash.subarray(0x2000, 0x2400) ?? Buffer.alloc(0), payload),
    ).toBe(0);
    const md5 = await c.command(OP.SPI_FLASH_MD5, u32s(0x2000, 0x400, 0, 0));
    expect(md5.data).toHaveLength(36);
    expect(new TextDecoder().decode(md5.data.subarray(0, 32))).toBe(
      createHash('md5').update(payload).digest('hex'),
    );
    // Stub-only commands are unknown to the ROM.
    expect(Array.from((await c.command(OP.ERASE_FLASH)).data)).toEqual([1, 5, 0, 0]);
  });

  it('refuses MEM_BEGIN outside RAM and hangs when jumping to no code', async () => {
    const c = await rom();
    expect((await c.command(OP.MEM_BEGIN, u32s(16, 1, 0x1800, 0x50000000))).data[0]).toBe(1);
    expect((await c.command(OP.MEM_END, u32s(0, 0x400a8000))).data[0]).toBe(0);
    expect(await c.quiet(100)).toBe(true); // no OHAI
    c.send(OP.SYNC, SYNC);
    expect(await c.quiet(150)).toBe(true);
    expect(rig?.sim.mode).toBe('crashed');
  });

  it('answers CHANGE_BAUDRATE at the old speed, then uses the new one', async () => {
    const c = await rom();
    const baud = new Promise((resolve) => rig?.sim.once('baud', resolve));
    expect((await c.command(OP.CHANGE_BAUDRATE, u32s(460800, 0))).data[0]).toBe(0);
    expect(await baud).toBe(460800);
    expect(rig?.sim.baud).toBe(460800);
    expect((await c.command(OP.READ_REG, u32s(0x3ff40014))).value).toBe(Math.round(40e6 / 460800));
  });
});

describe('Esp32Sim stub', () => {
  it('greets with OHAI, then uses stub rules: SYNC value 0, 2 status bytes, raw MD5', async () => {
    const c = await rom();
    await startStub(c);
    c.send(OP.SYNC, SYNC);
    for (let i = 0; i < 8; i++) {
      const r = await c.reply();
      expect(r.value).toBe(0);
      expect(Array.from(r.data)).toEqual([0, 0]);
    }
    expect(Array.from((await c.command(OP.GET_SECURITY_INFO)).data)).toEqual([0xff, 0]);
    rig?.sim.flash.fill(0x5a, 0x3000, 0x4000);
    const md5 = await c.command(OP.SPI_FLASH_MD5, u32s(0x3000, 0x1000, 0, 0));
    expect(md5.data).toHaveLength(18);
    expect(Buffer.from(md5.data.subarray(0, 16)).toString('hex')).toBe(
      createHash('md5').update(Buffer.alloc(0x1000, 0x5a)).digest('hex'),
    );
    expect(Array.from((await c.command(OP.ERASE_REGION, u32s(0x3001, 0x1000))).data)).toEqual([
      0xc0, 0,
    ]);
    expect((await c.command(OP.ERASE_REGION, u32s(0x3000, 0x1000))).data[0]).toBe(0);
    expect(rig?.sim.flash.subarray(0x3000, 0x4000).every((b) => b === 0xff)).toBe(true);
    expect(Array.from((await c.command(0x77)).data)).toEqual([0xc3, 0]);
  });

  it('streams READ_FLASH in packets, waits for ACKs, and ends with the MD5', async () => {
    const c = await rom();
    await startStub(c);
    const content = Buffer.from(Array.from({ length: 0x2800 }, (_, i) => (i * 7) & 0xff));
    content.copy(rig?.sim.flash ?? Buffer.alloc(0), 0x10000);
    expect((await c.command(OP.READ_FLASH, u32s(0x10000, content.length, 0x1000, 1))).data[0]).toBe(
      0,
    );
    const got: Uint8Array[] = [];
    let total = 0;
    while (total < content.length) {
      const packet = await c.frame();
      got.push(packet);
      total += packet.length;
      // One packet in flight: nothing more comes until it is acknowledged.
      if (total < content.length) expect(await c.quiet(50)).toBe(true);
      c.port.write(Buffer.from(slipEncode(u32s(total))));
    }
    expect(got.map((p) => p.length)).toEqual([0x1000, 0x1000, 0x800]);
    expect(Buffer.compare(Buffer.concat(got), content)).toBe(0);
    const digest = await c.frame();
    expect(Buffer.from(digest).toString('hex')).toBe(
      createHash('md5').update(content).digest('hex'),
    );
  });
});

describe('Esp32Sim throttle', () => {
  it('takes at least the wire time at the current baud for requests and replies', async () => {
    const c = await rom({ throttle: true });
    const started = performance.now();
    c.send(OP.SYNC, SYNC);
    for (let i = 0; i < 8; i++) await c.reply();
    // 46-byte request + 8 x 14-byte replies at 115200 8N1.
    expect(performance.now() - started).toBeGreaterThanOrEqual(wireMs(46 + 8 * 14, 115200) - 1);

    const payload = new Uint8Array(0x1800).fill(0x33);
    await c.command(OP.MEM_BEGIN, u32s(payload.length, 1, 0x1800, 0x3ffe0000));
    const t = performance.now();
    await c.command(OP.MEM_DATA, block(payload, 0), checksum(payload));
    expect(performance.now() - t).toBeGreaterThanOrEqual(wireMs(payload.length + 24, 115200) - 1);
  });
});

describe('esp32-sim CLI', () => {
  let pair: PtyPair | null = null;
  let dir: string | null = null;
  afterEach(async () => {
    await pair?.close();
    pair = null;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = null;
  });

  it('logs what it receives and dumps the flash on SIGTERM', async () => {
    pair = await openPtyPair();
    dir = mkdtempSync(join(tmpdir(), 'fb-esp-sim-'));
    const dump = join(dir, 'flash.bin');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'test/support/esp32-sim-cli.ts',
        pair.a,
        '--flash-size',
        '2MB',
        '--dump',
        dump,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      for (let i = 0; i < 200 && !out.includes('simulator on'); i++)
        await new Promise((r) => setTimeout(r, 25));
      expect(out).toMatch(/esp32 simulator on/);
      const c = await RawClient.open(pair.b);
      client = c;
      await c.command(OP.SPI_ATTACH, u32s(0, 0));
      await c.command(OP.FLASH_BEGIN, u32s(0x400, 1, 0x400, 0x1000));
      const payload = new Uint8Array(0x400).fill(0xa5);
      expect((await c.command(OP.FLASH_DATA, block(payload, 0), checksum(payload))).data[0]).toBe(
        0,
      );
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toMatch(/FLASH_DATA/);
      expect(existsSync(dump)).toBe(true);
      const flash = readFileSync(dump);
      expect(flash.length).toBe(2 * 1024 * 1024);
      expect(flash.subarray(0x1000, 0x1400).every((b) => b === 0xa5)).toBe(true);
      expect(flash[0x1400]).toBe(0xff);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

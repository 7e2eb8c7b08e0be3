/**
 * A simulated Mongoose OS device on the simulator side of a pty pair (FLASHING.md 7): prints boot
 * log noise, answers RPC over the UART the way mongoose-os-libs/rpc-uart does (frames between
 * `"""`, CRC32 hex after the JSON, handshake `"""\x04"""`), keeps a running and a saved config,
 * and reboots on `Config.Save {reboot:true}` (boot log again, handshake needed again).
 *
 * The framing here is written independently of src/main/flasher/provision/mos-rpc-framing.ts
 * (CRC from node:zlib) so a bug shared by both sides cannot hide.
 */
import { crc32 } from 'node:zlib';
import type { SerialPort } from 'serialport';
import { PtyPeer, openPeerPort } from './pty-peer';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

export interface MosPeerOptions {
  path: string;
  baud?: number;
  deviceId?: string;
  /** Log lines printed every this many ms while idle; 0 disables. Default 30. */
  noiseIntervalMs?: number;
  /** Until this long after (re)boot the device ignores input. Default 0. */
  bootDelayMs?: number;
  /** Print a partial log line (no newline) right before every reply frame. */
  noiseBeforeReply?: boolean;
  /** Send a frame with a wrong CRC before every reply frame. */
  corruptFrameBeforeReply?: boolean;
  /** Answer this method with an error. */
  failMethod?: { method: string; code: number; message: string };
  /** Never answer these methods (to test timeouts). */
  silentMethods?: string[];
  initialConfig?: JsonObject;
}

export interface MosPeerCall {
  method: string;
  params: Json | undefined;
}

const BOOT_LOG = [
  'ets Jun  8 2016 00:22:57',
  '',
  'rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)',
  'I (29) boot: ESP-IDF v4.4.4 2nd stage bootloader',
  'I (29) boot: compile time 10:11:12',
  '[Nov 22 00:00:00.012] esp32_main.c:123        Mongoose OS 2.20.0 (20230801-000000)',
  '[Nov 22 00:00:00.021] mgos_sys_config.c:368   Loading conf0.json',
  '[Nov 22 00:00:00.045] mgos_rpc_channel_ua:325 0x3ffb5a7c UART0',
];

function deepMerge(target: JsonObject, patch: JsonObject): JsonObject {
  const out: JsonObject = { ...target };
  for (const [k, v] of Object.entries(patch)) {
    const cur = out[k];
    if (
      v &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      cur &&
      typeof cur === 'object' &&
      !Array.isArray(cur)
    ) {
      out[k] = deepMerge(cur, v);
    } else {
      out[k] = v;
    }
  }
  return out;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export class MosUartPeer extends PtyPeer {
  readonly calls: MosPeerCall[] = [];
  running: JsonObject;
  saved: JsonObject;
  rebootCount = 0;
  handshakes = 0;
  /** Frames the device dropped for a bad CRC. */
  badFrames = 0;
  private rx = '';
  private connected = false;
  private bootedAt = Date.now();
  private uptimeTicks = 0;

  private constructor(
    port: SerialPort,
    private readonly opts: MosPeerOptions,
  ) {
    super(port);
    const base: JsonObject = {
      device: { id: opts.deviceId ?? 'esp32_5A3B1C' },
      wifi: { sta: { enable: false, ssid: '', pass: '' }, ap: { enable: true } },
      dash: { enable: false, token: '', server: 'wss://mdash.net/api/v2/rpc' },
    };
    this.saved = deepMerge(base, opts.initialConfig ?? {});
    this.running = clone(this.saved);
  }

  static async start(opts: MosPeerOptions): Promise<MosUartPeer> {
    const port = await openPeerPort(opts.path, opts.baud);
    const peer = new MosUartPeer(port, opts);
    port.on('data', (d: Buffer) => peer.onData(d));
    peer.boot();
    peer.every(opts.noiseIntervalMs ?? 30, () => {
      peer.uptimeTicks++;
      peer.write(
        `[Nov 22 00:00:${String(peer.uptimeTicks % 60).padStart(2, '0')}.000] mgos_main.c:42 uptime ${peer.uptimeTicks}, RAM: 201944, 180000 free\r\n`,
      );
    });
    return peer;
  }

  /** Simulates a power cycle: boot log, handshake needed again, running config = saved. */
  reboot(): void {
    this.rebootCount++;
    this.boot();
  }

  private boot(): void {
    this.connected = false;
    this.rx = '';
    this.running = clone(this.saved);
    this.bootedAt = Date.now();
    this.write(BOOT_LOG.join('\r\n') + '\r\n');
  }

  private write(text: string | Buffer): void {
    this.writeRaw(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
  }

  private onData(d: Buffer): void {
    if (Date.now() - this.bootedAt < (this.opts.bootDelayMs ?? 0)) return; // still booting: input lost
    this.rx += d.toString('latin1');
    let at: number;
    while ((at = this.rx.indexOf('"""')) >= 0) {
      const chunk = this.rx.slice(0, at);
      this.rx = this.rx.slice(at + 3);
      if (chunk.length === 0) continue;
      if (chunk === '\x04') {
        this.handshakes++;
        this.connected = true;
        this.write('"""\x04"""');
        continue;
      }
      this.onFrameChunk(chunk);
    }
    if (this.rx.length > 16384) this.rx = '';
  }

  private onFrameChunk(chunk: string): void {
    const close = chunk.lastIndexOf('}');
    if (close < 0) return; // newline leftovers between frames
    const json = chunk.slice(0, close + 1).replace(/^\s+/, '');
    const meta = chunk.slice(close + 1);
    if (meta.length >= 8) {
      const want = parseInt(meta.slice(0, 8), 16) >>> 0;
      if (crc32(Buffer.from(json, 'latin1')) >>> 0 !== want) {
        this.badFrames++;
        return;
      }
    }
    let req: { id?: number; method?: string; params?: Json };
    try {
      req = JSON.parse(Buffer.from(json, 'latin1').toString('utf8')) as typeof req;
    } catch {
      this.badFrames++;
      return;
    }
    if (typeof req.method !== 'string') return;
    this.calls.push({ method: req.method, params: req.params });
    this.dispatch(req.id ?? 0, req.method, req.params);
  }

  private reply(
    id: number,
    body: { result?: Json; error?: { code: number; message: string } },
  ): void {
    if (!this.connected) return; // rpc-uart cannot send before the handshake
    const frame: JsonObject = {
      id,
      src: (this.running.device as JsonObject)?.id ?? 'esp32',
      dst: 'fleetbench',
    };
    if (body.error) frame.error = body.error;
    else frame.result = body.result ?? null;
    const json = Buffer.from(JSON.stringify(frame), 'utf8');
    const crc = (crc32(json) >>> 0).toString(16).padStart(8, '0');
    let out = '';
    if (this.opts.noiseBeforeReply) out += 'I (4242) wifi:mode : sta (24:0a:c4:00:00:01)';
    if (this.opts.corruptFrameBeforeReply) {
      const bogus = JSON.stringify({ id, result: { bogus: true } });
      out += `"""${bogus}00000000"""`;
    }
    this.write(
      Buffer.concat([Buffer.from(out + '"""', 'latin1'), json, Buffer.from(`${crc}"""`, 'latin1')]),
    );
  }

  private dispatch(id: number, method: string, params: Json | undefined): void {
    if (this.opts.silentMethods?.includes(method)) return;
    if (this.opts.failMethod?.method === method) {
      this.reply(id, {
        error: { code: this.opts.failMethod.code, message: this.opts.failMethod.message },
      });
      return;
    }
    const p = (
      params && typeof params === 'object' && !Array.isArray(params) ? params : {}
    ) as JsonObject;
    switch (method) {
      case 'Sys.GetInfo':
        this.reply(id, {
          result: {
            id: ((this.running.device as JsonObject)?.id as string) ?? 'esp32',
            app: 'fleetbench-sim',
            fw_version: '1.0.0',
            fw_id: '20241122-000000',
            mac: '240AC4000001',
            arch: 'esp32',
            uptime: this.uptimeTicks,
          },
        });
        return;
      case 'Config.Get':
        this.reply(id, { result: clone(this.running) });
        return;
      case 'Config.Set': {
        const cfg = p.config;
        if (!cfg || typeof cfg !== 'object' || Array.isArray(cfg)) {
          this.reply(id, { error: { code: 400, message: 'config is required' } });
          return;
        }
        this.running = deepMerge(this.running, cfg);
        this.reply(id, { result: { saved: false } });
        return;
      }
      case 'Config.Save': {
        this.saved = clone(this.running);
        this.reply(id, { result: { saved: true } });
        if (p.reboot === true) this.later(100, () => this.reboot());
        return;
      }
      default:
        this.reply(id, { error: { code: 404, message: `No handler for ${method}` } });
    }
  }
}

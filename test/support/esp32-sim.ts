/**
 * A simulated ESP32 ROM bootloader + flasher stub on a tty path (FLASHING.md 2 and 7).
 *
 * It speaks the serial protocol the way the chip does: SLIP frames (bytes outside frames are
 * ignored), 4 status bytes in ROM and 2 (big-endian esp-flasher-stub codes) in the stub, SYNC
 * answered 8 times (value != 0 in ROM, 0 in the stub), the register map of 2.6 with SPI flash-ID
 * emulation, GET_SECURITY_INFO as an unsupported command on ESP32 (one op-mismatched reply, 2.5),
 * MEM_* with "OHAI" after MEM_END, CHANGE_BAUDRATE answered at the old speed, FLASH and DEFL
 * writes into a NOR-like flash buffer (writes AND into erased bytes), MD5 as ASCII hex in ROM and
 * raw bytes in the stub, ERASE_*, READ_FLASH with ACK windowing and a final MD5.
 *
 * `throttle` makes time realistic: every outgoing frame leaves only after its wire time at the
 * current baud (10 bits per byte) and incoming bytes are consumed at wire speed too, so a flash
 * takes as long as it would over a real UART. `faults` inject the failures flashers must survive.
 */
import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import { realpathSync, writeFileSync } from 'node:fs';
import { Unzlib } from 'fflate';
import { SerialPort } from 'serialport';
import { SlipDecoder, slipEncode } from '../../src/main/flasher/esp/slip';
import {
  flashBytesOf,
  jedecFor,
  parseMac,
  SIM_CHIPS,
  type SimChip,
  type SimChipProfile,
} from './esp32-sim-chips';

export const OP = {
  FLASH_BEGIN: 0x02,
  FLASH_DATA: 0x03,
  FLASH_END: 0x04,
  MEM_BEGIN: 0x05,
  MEM_END: 0x06,
  MEM_DATA: 0x07,
  SYNC: 0x08,
  WRITE_REG: 0x09,
  READ_REG: 0x0a,
  SPI_SET_PARAMS: 0x0b,
  SPI_ATTACH: 0x0d,
  CHANGE_BAUDRATE: 0x0f,
  FLASH_DEFL_BEGIN: 0x10,
  FLASH_DEFL_DATA: 0x11,
  FLASH_DEFL_END: 0x12,
  SPI_FLASH_MD5: 0x13,
  GET_SECURITY_INFO: 0x14,
  ERASE_FLASH: 0xd0,
  ERASE_REGION: 0xd1,
  READ_FLASH: 0xd2,
  RUN_USER_CODE: 0xd3,
} as const;

const OP_NAMES = new Map<number, string>(Object.entries(OP).map(([k, v]) => [v, k]));

export function opName(op: number): string {
  return OP_NAMES.get(op) ?? `OP_0x${op.toString(16).padStart(2, '0')}`;
}

/** Error codes: ROM (second status byte, FLASHING.md 2.2) and stub (u16 BE, esp-flasher-stub). */
const E = {
  invalid: { rom: 0x05, stub: 0xc0 },
  badLength: { rom: 0x05, stub: 0xc0 },
  checksum: { rom: 0x07, stub: 0xc1 },
  notInFlashMode: { rom: 0x05, stub: 0xc6 },
  flashWrite: { rom: 0x08, stub: 0xc4 },
  flashRead: { rom: 0x09, stub: 0xc4 },
  inflate: { rom: 0x0b, stub: 0xc7 },
  tooMuch: { rom: 0x05, stub: 0xc9 },
  notImplemented: { rom: 0x05, stub: 0xff },
  invalidCommand: { rom: 0x05, stub: 0xc3 },
} as const;
type ErrorCode = { rom: number; stub: number };

export interface Esp32SimFaults {
  /**
   * The chip prints a boot log (`true`: the ESP32 ROM's "waiting for download" banner) when the
   * host first sends something, and misses that first chunk, like a board reset by the host.
   */
  banner?: boolean | string;
  /** The board runs its app (in a boot loop) instead of the download mode: it prints logs and never answers. */
  appRunning?: boolean;
  /** Answer data blocks with sequence number `seq` with a checksum error, `times` times (default: always). */
  badChecksum?: { seq: number; times?: number };
  /** Swallow the reply to occurrence `nth` (0-based, default 0) of `op`, for `times` occurrences (default: all). */
  dropReply?: { op: number; nth?: number; times?: number };
  /** Send the reply to `op` only after `ms` (longer than the client waits), for `times` occurrences. */
  lateReply?: { op: number; ms: number; nth?: number; times?: number };
  /** Close the simulator's end of the line when data block number N (0-based, all files) arrives. */
  closeOnBlock?: number;
  /**
   * Flash cells that do not take their data: after programming, bit 0 of the byte at this flash
   * address is flipped (a worn or failing cell). Every block is still ACKed, so only the MD5 shows it.
   */
  corruptWriteAt?: number;
}

export interface Esp32SimOptions {
  path: string;
  chip?: SimChip;
  flashSize?: string;
  /** Override the JEDEC ID the flash reports (default: a Winbond part of `flashSize`). */
  jedec?: number;
  mac?: string;
  /** Initial line speed (the ROM's). */
  baud?: number;
  throttle?: boolean;
  faults?: Esp32SimFaults;
  log?: (line: string) => void;
}

interface FlashSession {
  compressed: boolean;
  /** Next flash address to write. */
  offset: number;
  /** Bytes the client announced and has not sent yet. */
  remaining: number;
  blockSize: number;
  inflater?: Unzlib;
  error?: ErrorCode;
}

interface ReadSession {
  offset: number;
  end: number;
  total: number;
  packetSize: number;
  maxInFlight: number;
  sent: number;
  inFlight: number;
  md5: ReturnType<typeof createHash>;
}

type TxItem = { kind: 'bytes'; bytes: Uint8Array; at?: number } | { kind: 'baud'; baud: number };

const EMPTY = new Uint8Array(0);
const SYNC_PAYLOAD = Uint8Array.from([0x07, 0x07, 0x12, 0x20, ...new Array<number>(32).fill(0x55)]);
const ROM_SYNC_VALUE = 0x20120707;
const DEFAULT_BANNER =
  'ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n';
const APP_BOOT =
  'ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\nconfigsip: 0, SPIWP:0xee\r\nload:0x3fff0018,len:4\r\nentry 0x400806a8\r\n';
const SECTOR = 0x1000;

const le32 = (b: Uint8Array, off: number): number =>
  ((b[off] ?? 0) |
    ((b[off + 1] ?? 0) << 8) |
    ((b[off + 2] ?? 0) << 16) |
    ((b[off + 3] ?? 0) << 24)) >>>
  0;

function u32le(n: number): Uint8Array {
  return Uint8Array.from([n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff]);
}

function checksum(data: Uint8Array): number {
  let c = 0xef;
  for (const b of data) c ^= b;
  return c;
}

/** Milliseconds a UART needs for `bytes` at `baud` with 8N1 framing (10 bits per byte). */
export function wireMs(bytes: number, baud: number): number {
  return (bytes * 10 * 1000) / baud;
}

export class Esp32Sim extends EventEmitter {
  readonly flash: Buffer;
  /** Every command received, by name, in order. */
  readonly commands: string[] = [];
  readonly chip: SimChip;
  /** Bytes received and sent on the line (for throughput checks). */
  readonly stats = { rxBytes: 0, txBytes: 0 };
  mode: 'rom' | 'stub' | 'app' | 'crashed' = 'rom';
  baud: number;

  private readonly profile: SimChipProfile;
  private readonly regs: Map<number, number>;
  private readonly jedec: number;
  private readonly throttle: boolean;
  private readonly faults: Esp32SimFaults;
  private readonly log: (line: string) => void;
  private readonly path: string;
  private port: SerialPort | null = null;
  private decoder = new SlipDecoder();
  private stopped = false;
  private opCounts = new Map<number, number>();
  private currentOccurrence = 0;
  private badChecksumCount = 0;
  private dataBlocks = 0;
  private spiAttached = false;
  private loaded: [number, number][] = [];
  private mem: { offset: number; remaining: number; nextSeq: number } | null = null;
  private session: FlashSession | null = null;
  private reading: ReadSession | null = null;
  private rxQueue: { chunk: Buffer; at: number }[] = [];
  private rxClock = 0;
  private rxTimer: NodeJS.Timeout | null = null;
  private txQueue: TxItem[] = [];
  private txClock = 0;
  private txTimer: NodeJS.Timeout | null = null;
  private txWaiting = false;
  private timers = new Set<NodeJS.Timeout>();
  private appTimer: NodeJS.Timeout | null = null;
  private isPty = false;
  private greeted = false;

  constructor(options: Esp32SimOptions) {
    super();
    this.path = options.path;
    this.chip = options.chip ?? 'esp32';
    const profile = SIM_CHIPS[this.chip];
    if (!profile) throw new Error(`the simulator does not know chip ${String(options.chip)}`);
    this.profile = profile;
    const flashSize = options.flashSize ?? '4MB';
    this.flash = Buffer.alloc(flashBytesOf(flashSize), 0xff);
    this.jedec = options.jedec ?? jedecFor(flashSize);
    this.baud = options.baud ?? 115200;
    this.throttle = options.throttle ?? false;
    this.faults = options.faults ?? {};
    this.log = options.log ?? (() => {});
    this.regs = profile.registers(parseMac(options.mac ?? '24:0a:c4:12:34:56'));
    this.updateClkdiv();
  }

  async start(): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: this.baud, autoOpen: false });
    port.on('error', (err) => this.log(`port error: ${err.message}`));
    await new Promise<void>((resolve, reject) =>
      port.open((err) => (err ? reject(err) : resolve())),
    );
    this.port = port;
    try {
      this.isPty = realpathSync(this.path).startsWith('/dev/pts/');
    } catch {
      this.isPty = false;
    }
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    this.log(
      `${this.chip} simulator on ${this.path} at ${this.baud} baud${this.throttle ? ' (throttled)' : ''}`,
    );
    if (this.faults.appRunning) {
      this.mode = 'app';
      // A crashing app in a boot loop: a log line every 25 ms, the ROM boot log every 100 ms.
      let tick = 0;
      this.appTimer = setInterval(() => {
        tick += 25;
        this.sendRaw(tick % 100 === 0 ? APP_BOOT : `I (${tick}) app: running\r\n`);
      }, 25);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.rxTimer) clearTimeout(this.rxTimer);
    if (this.txTimer) clearTimeout(this.txTimer);
    if (this.appTimer) clearInterval(this.appTimer);
    this.rxQueue = [];
    this.txQueue = [];
    await this.closePort();
  }

  /** Writes the whole flash to a file. */
  dump(file: string): void {
    writeFileSync(file, this.flash);
  }

  // ---- line handling ----------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.stopped) return;
    this.stats.rxBytes += chunk.length;
    if (!this.greeted) {
      this.greeted = true;
      // Bytes written before the host opened its end are flushed by its open (tcflush), so the
      // boot log is printed when the host first talks: as if its reset sequence rebooted the
      // chip. The chip was still booting, so it misses that first chunk (FLASHING.md 2.1).
      const banner = this.faults.appRunning ? APP_BOOT : this.faults.banner;
      if (banner) {
        this.sendRaw(typeof banner === 'string' ? banner : DEFAULT_BANNER);
        this.log(`(fault) printed a boot log and missed ${chunk.length} bytes`);
        return;
      }
    }
    if (!this.throttle) {
      this.consume(chunk);
      return;
    }
    // The bytes are only "there" once the UART could have received them.
    this.rxClock = Math.max(this.rxClock, performance.now()) + wireMs(chunk.length, this.baud);
    this.rxQueue.push({ chunk, at: this.rxClock });
    this.pumpRx();
  }

  private pumpRx(): void {
    while (!this.rxTimer && !this.stopped) {
      const next = this.rxQueue[0];
      if (!next) return;
      const delay = next.at - performance.now();
      if (delay > 0) {
        this.rxTimer = setTimeout(() => {
          this.rxTimer = null;
          this.pumpRx();
        }, delay);
        return;
      }
      this.rxQueue.shift();
      this.consume(next.chunk);
    }
  }

  private consume(chunk: Uint8Array): void {
    for (const ev of this.decoder.push(chunk)) {
      if (this.stopped) return;
      if (ev.kind === 'noise') {
        this.log(`ignored ${ev.data.length} bytes outside frames`);
      } else if (ev.kind === 'error') {
        this.log(`dropped frame: ${ev.reason}`);
      } else if (this.reading) {
        this.onReadAck(ev.data);
      } else {
        this.onFrame(ev.data);
      }
    }
  }

  private sendRaw(text: string | Uint8Array): void {
    const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
    this.txQueue.push({ kind: 'bytes', bytes });
    this.pumpTx();
  }

  private sendPacket(packet: Uint8Array): void {
    this.sendRaw(slipEncode(packet));
  }

  private pumpTx(): void {
    while (!this.txTimer && !this.txWaiting && !this.stopped) {
      const item = this.txQueue[0];
      const port = this.port;
      if (!item || !port) return;
      if (item.kind === 'baud') {
        this.txQueue.shift();
        this.txWaiting = true;
        // The reply went out at the old speed; switch once it has left (FLASHING.md 2.3).
        const switched = (err?: Error | null): void => {
          if (err) this.log(`baud change failed: ${err.message}`);
          this.baud = item.baud;
          this.updateClkdiv();
          this.txWaiting = false;
          this.emit('baud', item.baud);
          this.pumpTx();
        };
        if (this.isPty) {
          // serialport's update() runs tcflush(TCIOFLUSH) (bindings-cpp serialport_unix.cpp), and
          // on a pty that discards the reply still waiting in socat's read buffer. A pty has no
          // line speed anyway: only the simulated one (used by `throttle`) changes.
          switched();
        } else {
          port.drain(() => port.update({ baudRate: item.baud }, switched));
        }
        return;
      }
      if (this.throttle) {
        if (item.at === undefined) {
          this.txClock =
            Math.max(this.txClock, performance.now()) + wireMs(item.bytes.length, this.baud);
          item.at = this.txClock;
        }
        const delay = item.at - performance.now();
        // Node timers cannot wait less than ~1 ms; a shorter wait (an ACK at high baud) is sent
        // now rather than after whatever work the simulator does next.
        if (delay >= 1) {
          this.txTimer = setTimeout(() => {
            this.txTimer = null;
            this.pumpTx();
          }, delay);
          return;
        }
      }
      this.txQueue.shift();
      this.stats.txBytes += item.bytes.length;
      if (port.isOpen) port.write(Buffer.from(item.bytes));
    }
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(t);
  }

  private async closePort(): Promise<void> {
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  // ---- replies ----------------------------------------------------------------------------

  private inFault(
    f: { op: number; nth?: number; times?: number } | undefined,
    op: number,
  ): boolean {
    if (!f || f.op !== op) return false;
    const nth = f.nth ?? 0;
    const times = f.times ?? Infinity;
    return this.currentOccurrence >= nth && this.currentOccurrence < nth + times;
  }

  private reply(op: number, value = 0, data: Uint8Array = EMPTY, error?: ErrorCode): void {
    const status =
      this.mode === 'stub'
        ? Uint8Array.from(error ? [error.stub, 0] : [0, 0])
        : Uint8Array.from(error ? [1, error.rom, 0, 0] : [0, 0, 0, 0]);
    const len = data.length + status.length;
    const pkt = new Uint8Array(8 + len);
    pkt[0] = 0x01;
    pkt[1] = op;
    pkt[2] = len & 0xff;
    pkt[3] = len >> 8;
    pkt.set(u32le(value), 4);
    pkt.set(data, 8);
    pkt.set(status, 8 + data.length);
    if (error)
      this.log(
        `  -> ${opName(op)} error 0x${(this.mode === 'stub' ? error.stub : error.rom).toString(16)}`,
      );
    if (this.inFault(this.faults.dropReply, op)) {
      this.log(`  (fault) reply to ${opName(op)} dropped`);
      return;
    }
    const late = this.faults.lateReply;
    if (late && this.inFault(late, op)) {
      this.log(`  (fault) reply to ${opName(op)} delayed ${late.ms} ms`);
      this.later(late.ms, () => this.sendPacket(pkt));
      return;
    }
    this.sendPacket(pkt);
  }

  private fail(op: number, error: ErrorCode): void {
    this.reply(op, 0, EMPTY, error);
  }

  /** What the ESP32 ROM sends for a command it does not know (FLASHING.md 2.5, open question 8.1). */
  private unsupported(op: number): void {
    if (this.mode === 'stub') {
      this.fail(op, E.invalidCommand);
      return;
    }
    this.log(`  -> ${opName(op)} unsupported in ROM`);
    this.sendPacket(Uint8Array.from([0x01, 0x00, 0x04, 0x00, 0, 0, 0, 0, 0x01, 0x05, 0x00, 0x00]));
  }

  // ---- commands ---------------------------------------------------------------------------

  private onFrame(frame: Uint8Array): void {
    if (this.mode === 'app' || this.mode === 'crashed') {
      this.log(
        `ignored a frame: the chip is ${this.mode === 'app' ? 'running its app' : 'not running'}`,
      );
      return;
    }
    if (frame.length < 8 || frame[0] !== 0x00) {
      this.log(`ignored a malformed frame (${frame.length} bytes)`);
      return;
    }
    const op = frame[1] ?? 0;
    const len = (frame[2] ?? 0) | ((frame[3] ?? 0) << 8);
    const chk = le32(frame, 4);
    const data = frame.subarray(8);
    const name = opName(op);
    this.commands.push(name);
    const occurrence = this.opCounts.get(op) ?? 0;
    this.opCounts.set(op, occurrence + 1);
    this.currentOccurrence = occurrence;
    this.emit('command', name, data);
    if (data.length !== len) {
      this.log(`${name}: length field ${len} but ${data.length} bytes`);
      this.fail(op, E.badLength);
      return;
    }
    this.handle(op, name, data, chk);
  }

  private handle(op: number, name: string, data: Uint8Array, chk: number): void {
    switch (op) {
      case OP.SYNC:
        return this.onSync(data);
      case OP.READ_REG: {
        if (data.length !== 4) return this.fail(op, E.badLength);
        const addr = le32(data, 0);
        const value = this.regs.get(addr) ?? 0;
        this.log(`${name} 0x${addr.toString(16)} = 0x${value.toString(16)}`);
        return this.reply(op, value);
      }
      case OP.WRITE_REG:
        return this.onWriteReg(data);
      case OP.GET_SECURITY_INFO: {
        const info = this.profile.securityInfo;
        if (!info) {
          return this.mode === 'stub' ? this.fail(op, E.notImplemented) : this.unsupported(op);
        }
        return this.reply(op, 0, info);
      }
      case OP.MEM_BEGIN:
        return this.onMemBegin(data);
      case OP.MEM_DATA:
        return this.onMemData(data, chk);
      case OP.MEM_END:
        return this.onMemEnd(data);
      case OP.SPI_ATTACH:
        if (data.length !== 4 && data.length !== 8) return this.fail(op, E.badLength);
        this.spiAttached = true;
        return this.reply(op);
      case OP.SPI_SET_PARAMS:
        if (data.length !== 24) return this.fail(op, E.badLength);
        this.log(`${name} total_size=${le32(data, 4)}`);
        return this.reply(op);
      case OP.CHANGE_BAUDRATE: {
        if (data.length !== 8) return this.fail(op, E.badLength);
        const baud = le32(data, 0);
        if (baud < 300 || baud > 5_000_000) return this.fail(op, E.invalid);
        this.log(`${name} ${this.baud} -> ${baud} (client says old=${le32(data, 4)})`);
        this.reply(op);
        this.txQueue.push({ kind: 'baud', baud });
        return this.pumpTx();
      }
      case OP.FLASH_BEGIN:
      case OP.FLASH_DEFL_BEGIN:
        return this.onFlashBegin(op, data);
      case OP.FLASH_DATA:
      case OP.FLASH_DEFL_DATA:
        return this.onFlashData(op, data, chk);
      case OP.FLASH_END:
      case OP.FLASH_DEFL_END:
        return this.onFlashEnd(op, data);
      case OP.SPI_FLASH_MD5:
        return this.onMd5(data);
      case OP.ERASE_FLASH:
        if (this.mode !== 'stub') return this.unsupported(op);
        this.flash.fill(0xff);
        this.log('erased the whole flash');
        return this.reply(op);
      case OP.ERASE_REGION: {
        if (this.mode !== 'stub') return this.unsupported(op);
        if (data.length !== 8) return this.fail(op, E.badLength);
        const addr = le32(data, 0);
        const size = le32(data, 4);
        if (addr % SECTOR || size % SECTOR) return this.fail(op, E.badLength);
        if (addr + size > this.flash.length) return this.fail(op, E.flashWrite);
        this.flash.fill(0xff, addr, addr + size);
        return this.reply(op);
      }
      case OP.READ_FLASH:
        return this.onReadFlash(data);
      case OP.RUN_USER_CODE:
        if (this.mode !== 'stub') return this.unsupported(op);
        this.log('running user code');
        this.mode = 'app';
        return;
      default:
        return this.unsupported(op);
    }
  }

  private onSync(data: Uint8Array): void {
    if (data.length !== SYNC_PAYLOAD.length || data.some((b, i) => b !== SYNC_PAYLOAD[i])) {
      this.log('SYNC with a wrong payload ignored');
      return;
    }
    // 8 identical replies; the stub sends value 0, which is how clients spot it (2.3).
    const value = this.mode === 'stub' ? 0 : ROM_SYNC_VALUE;
    for (let i = 0; i < 8; i++) this.reply(OP.SYNC, value);
  }

  private onWriteReg(data: Uint8Array): void {
    if (data.length === 0 || data.length % 16 !== 0) return this.fail(OP.WRITE_REG, E.badLength);
    for (let off = 0; off < data.length; off += 16) {
      const addr = le32(data, off);
      const value = le32(data, off + 4);
      const mask = le32(data, off + 8);
      const old = this.regs.get(addr) ?? 0;
      this.regs.set(addr, ((value & mask) | (old & ~mask)) >>> 0);
      this.afterRegWrite(addr);
    }
    this.reply(OP.WRITE_REG);
  }

  /** SPI flash-ID emulation (FLASHING.md 2.6): a write of bit 18 to SPI_CMD runs USR2's command. */
  private afterRegWrite(addr: number): void {
    const spi = this.profile.spi;
    if (addr !== spi.base) return;
    const cmd = this.regs.get(spi.base) ?? 0;
    if (!(cmd & (1 << 18))) return;
    const command = (this.regs.get(spi.base + spi.usr2) ?? 0) & 0xff;
    const w0 = spi.base + spi.w0;
    if (command === 0x9f) this.regs.set(w0, this.jedec);
    else if (command === 0x05 || command === 0x35) this.regs.set(w0, 0);
    this.log(
      `SPI flash command 0x${command.toString(16)} -> W0 0x${(this.regs.get(w0) ?? 0).toString(16)}`,
    );
    this.regs.set(spi.base, (cmd & ~(1 << 18)) >>> 0);
  }

  private inRanges(ranges: [number, number][], start: number, end: number): boolean {
    return ranges.some(([a, b]) => start >= a && end <= b);
  }

  private onMemBegin(data: Uint8Array): void {
    if (data.length !== 16) return this.fail(OP.MEM_BEGIN, E.badLength);
    const size = le32(data, 0);
    const offset = le32(data, 12);
    const ranges = [...this.profile.iram, ...this.profile.dram];
    if (!this.inRanges(ranges, offset, offset + size)) {
      this.log(`MEM_BEGIN 0x${offset.toString(16)}+${size} is outside IRAM/DRAM`);
      return this.fail(OP.MEM_BEGIN, E.invalid);
    }
    this.mem = { offset, remaining: size, nextSeq: 0 };
    this.loaded.push([offset, offset + size]);
    this.reply(OP.MEM_BEGIN);
  }

  private onMemData(data: Uint8Array, chk: number): void {
    const mem = this.mem;
    if (!mem) return this.fail(OP.MEM_DATA, E.notInFlashMode);
    if (data.length < 16) return this.fail(OP.MEM_DATA, E.badLength);
    const size = le32(data, 0);
    const seq = le32(data, 4);
    const payload = data.subarray(16);
    if (payload.length !== size || size > mem.remaining) return this.fail(OP.MEM_DATA, E.tooMuch);
    if (checksum(payload) !== chk) return this.fail(OP.MEM_DATA, E.checksum);
    if (seq !== mem.nextSeq) this.log(`MEM_DATA seq ${seq}, expected ${mem.nextSeq}`);
    mem.nextSeq = seq + 1;
    mem.offset += size;
    mem.remaining -= size;
    this.reply(OP.MEM_DATA);
  }

  private onMemEnd(data: Uint8Array): void {
    if (data.length !== 8) return this.fail(OP.MEM_END, E.badLength);
    const jump = le32(data, 0) === 0;
    const entry = le32(data, 4);
    this.mem = null;
    this.reply(OP.MEM_END);
    if (!jump) return;
    const inCode = this.loaded.some(
      ([a, b]) => entry >= a && entry < b && this.inRanges(this.profile.iram, a, b),
    );
    if (!inCode) {
      this.log(`jumped to 0x${entry.toString(16)}, which holds no uploaded code: the chip hangs`);
      this.mode = 'crashed';
      return;
    }
    // The stub greets with one unsolicited SLIP frame, "OHAI" (2.7), then speaks stub rules.
    this.mode = 'stub';
    this.log(`stub running from 0x${entry.toString(16)}`);
    this.sendPacket(new TextEncoder().encode('OHAI'));
  }

  private onFlashBegin(op: number, data: Uint8Array): void {
    // 16 bytes, or 20 with the `encrypted` word that S2-and-later ROMs take. esptool-js also sends
    // 20 to the ESP32 ROM for FLASH_BEGIN; whether the real ROM accepts that is open
    // (FLASHING.md 8.3), so the simulator accepts both everywhere and notes it.
    if (data.length !== 16 && data.length !== 20) return this.fail(op, E.badLength);
    if (this.mode === 'rom' && data.length !== this.profile.romBeginLength) {
      this.log(
        `${opName(op)} with ${data.length} bytes; this ROM expects ${this.profile.romBeginLength}`,
      );
    }
    if (this.mode === 'rom' && !this.spiAttached) {
      this.log(`${opName(op)} before SPI_ATTACH: the ROM cannot reach the flash`);
      return this.fail(op, E.flashWrite);
    }
    const size = le32(data, 0);
    const blockSize = le32(data, 8);
    const offset = le32(data, 12);
    if (blockSize === 0 || blockSize > 0x4000) return this.fail(op, E.invalid);
    const end = offset + size;
    if (end > this.flash.length) {
      this.log(`${opName(op)} 0x${offset.toString(16)}+${size} is beyond the flash`);
      return this.fail(op, E.flashWrite);
    }
    // The ROM erases the region now; the stub erases just in time, which ends up the same.
    const eraseStart = offset - (offset % SECTOR);
    const eraseEnd = Math.min(this.flash.length, Math.ceil(end / SECTOR) * SECTOR);
    this.flash.fill(0xff, eraseStart, eraseEnd);
    const session: FlashSession = {
      compressed: op === OP.FLASH_DEFL_BEGIN,
      offset,
      remaining: size,
      blockSize,
    };
    if (session.compressed) {
      session.inflater = new Unzlib((chunk) => this.program(session, chunk));
    }
    this.session = session;
    this.log(
      `${opName(op)} ${size} bytes at 0x${offset.toString(16)} (${le32(data, 4)} blocks of ${blockSize})`,
    );
    this.reply(op);
  }

  /** NOR flash: programming can only clear bits, so data is ANDed into the (erased) bytes. */
  private program(session: FlashSession, chunk: Uint8Array): void {
    if (chunk.length > session.remaining && this.mode === 'stub') {
      session.error = E.tooMuch;
      return;
    }
    const n = Math.min(chunk.length, this.flash.length - session.offset);
    for (let i = 0; i < n; i++) {
      const at = session.offset + i;
      this.flash[at] = (this.flash[at] ?? 0xff) & (chunk[i] ?? 0xff);
    }
    const bad = this.faults.corruptWriteAt;
    if (bad !== undefined && bad >= session.offset && bad < session.offset + n) {
      this.flash[bad] = (this.flash[bad] ?? 0xff) ^ 0x01;
      this.log(`  (fault) flash byte at 0x${bad.toString(16)} did not take its value`);
    }
    session.offset += n;
    session.remaining = Math.max(0, session.remaining - chunk.length);
  }

  private onFlashData(op: number, data: Uint8Array, chk: number): void {
    const block = this.dataBlocks++;
    this.emit('block', block);
    if (this.faults.closeOnBlock === block) {
      this.log(`(fault) line closed at data block ${block}`);
      this.stopped = true;
      void this.closePort();
      return;
    }
    const session = this.session;
    const compressed = op === OP.FLASH_DEFL_DATA;
    if (!session || session.compressed !== compressed) return this.fail(op, E.notInFlashMode);
    if (data.length < 16) return this.fail(op, E.badLength);
    const size = le32(data, 0);
    const seq = le32(data, 4);
    const payload = data.subarray(16);
    if (payload.length !== size) return this.fail(op, E.tooMuch);
    const bad = this.faults.badChecksum;
    if (bad && bad.seq === seq && this.badChecksumCount < (bad.times ?? Infinity)) {
      this.badChecksumCount++;
      this.log(`  (fault) checksum error reported for seq ${seq}`);
      return this.fail(op, E.checksum);
    }
    if (checksum(payload) !== chk) return this.fail(op, E.checksum);
    const write = (): void => {
      if (compressed) {
        try {
          session.inflater?.push(payload, false);
        } catch (err) {
          this.log(`inflate failed: ${(err as Error).message}`);
          session.error ??= E.inflate;
        }
      } else {
        // The stub writes only what was announced; the ROM writes the whole (padded) block.
        this.program(
          session,
          this.mode === 'stub' ? payload.subarray(0, session.remaining) : payload,
        );
      }
    };
    if (this.mode === 'stub') {
      // The stub ACKs a good block at once and writes it while the next one arrives (2.3), so a
      // write or inflate error surfaces in the reply to the next block or to *_END.
      if (session.error) return this.fail(op, session.error);
      this.reply(op);
      write();
      return;
    }
    write();
    if (session.error) return this.fail(op, session.error);
    this.reply(op);
  }

  private onFlashEnd(op: number, data: Uint8Array): void {
    if (data.length !== 4) return this.fail(op, E.badLength);
    const session = this.session;
    if (!session) return this.fail(op, E.notInFlashMode);
    if (session.error) return this.fail(op, session.error);
    if (this.mode === 'stub' && session.remaining !== 0) {
      this.log(`${opName(op)} with ${session.remaining} bytes still expected`);
      return this.fail(op, E.badLength);
    }
    this.session = null;
    this.reply(op);
    if (le32(data, 0) === 0) {
      this.log('reboot: the chip leaves the loader and runs its app');
      this.mode = 'app';
    }
  }

  private onMd5(data: Uint8Array): void {
    if (data.length !== 16) return this.fail(OP.SPI_FLASH_MD5, E.badLength);
    const addr = le32(data, 0);
    const size = le32(data, 4);
    if (addr + size > this.flash.length) return this.fail(OP.SPI_FLASH_MD5, E.flashRead);
    const digest = createHash('md5')
      .update(this.flash.subarray(addr, addr + size))
      .digest();
    // ROM: 32 lowercase ASCII hex characters; stub: the 16 raw bytes (2.3).
    const body =
      this.mode === 'stub'
        ? new Uint8Array(digest)
        : new TextEncoder().encode(digest.toString('hex'));
    this.reply(OP.SPI_FLASH_MD5, 0, body);
  }

  private onReadFlash(data: Uint8Array): void {
    if (this.mode !== 'stub') return this.unsupported(OP.READ_FLASH);
    if (data.length !== 16) return this.fail(OP.READ_FLASH, E.badLength);
    const offset = le32(data, 0);
    const total = le32(data, 4);
    const packetSize = le32(data, 8);
    const maxInFlight = Math.max(1, le32(data, 12));
    if (packetSize === 0 || packetSize > 0x4000) return this.fail(OP.READ_FLASH, E.badLength);
    if (offset + total > this.flash.length) return this.fail(OP.READ_FLASH, E.flashRead);
    this.reply(OP.READ_FLASH);
    this.reading = {
      offset,
      end: offset + total,
      total,
      packetSize,
      maxInFlight,
      sent: 0,
      inFlight: 0,
      md5: createHash('md5'),
    };
    this.sendReadPackets();
  }

  private sendReadPackets(): void {
    const r = this.reading;
    if (!r) return;
    while (r.sent < r.total && r.inFlight < r.maxInFlight) {
      const n = Math.min(r.packetSize, r.total - r.sent);
      const chunk = this.flash.subarray(r.offset + r.sent, r.offset + r.sent + n);
      r.md5.update(chunk);
      this.sendPacket(chunk);
      r.sent += n;
      r.inFlight++;
    }
  }

  /** During READ_FLASH every frame from the host is an ACK: the total bytes it has received. */
  private onReadAck(frame: Uint8Array): void {
    const r = this.reading;
    if (!r) return;
    if (frame.length !== 4) {
      this.log(`READ_FLASH aborted by a ${frame.length}-byte frame`);
      this.reading = null;
      return;
    }
    const acked = le32(frame, 0);
    r.inFlight = Math.max(0, r.inFlight - 1);
    if (acked >= r.total) {
      this.reading = null;
      this.sendPacket(new Uint8Array(r.md5.digest()));
      return;
    }
    this.sendReadPackets();
  }

  private updateClkdiv(): void {
    const reg = this.profile.uartClkdiv;
    // Crystal = baud * div / 1e6, so a 40 MHz crystal gives 347 at 115200 (2.6).
    if (reg !== undefined) this.regs.set(reg, Math.round(40e6 / this.baud));
  }
}

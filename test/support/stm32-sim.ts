/**
 * An STM32 system bootloader on a serial port (ST AN3155; FLASHING.md 4, 7), for tests and for
 * `npm run sim:stm32`. It opens the simulator side of a pty pair (test/support/pty-pair.ts) and
 * answers like the real ROM: auto-baud 0x7F -> ACK (a 0x7F after init is taken as a command byte,
 * so a second one draws NACK), Get / Get Version / Get ID, Read / Write Memory with address,
 * alignment, checksum and "flash must be erased" checks, Erase (0x43) or Extended Erase (0x44),
 * Go, the protection commands, and NACK for bad complements or checksums.
 *
 * It shares no code with src/main/flasher/stm32/: it parses frames itself, so that stm32flash (an
 * independent client) validates it, and it then validates our client. Extras for tests: a wire-time throttle (11 bits per byte at the set baud), fault
 * injection, a command log, and `dump(file)`.
 */
import { writeFile } from 'node:fs/promises';
import { SerialPort } from 'serialport';
import { SimMemory } from './stm32-sim-memory';
import { SIM_PARTS, withFlashSize, type SimPart, type SimPartName } from './stm32-sim-parts';

const ACK = 0x79;
const NACK = 0x1f;
const INIT = 0x7f;

/** Command names used in the log and in fault specs. */
export type SimCommand =
  | 'get'
  | 'get_version'
  | 'get_id'
  | 'read'
  | 'go'
  | 'write'
  | 'erase'
  | 'extended_erase'
  | 'write_protect'
  | 'write_unprotect'
  | 'readout_protect'
  | 'readout_unprotect';

const CODES: Record<number, SimCommand> = {
  0x00: 'get',
  0x01: 'get_version',
  0x02: 'get_id',
  0x11: 'read',
  0x21: 'go',
  0x31: 'write',
  0x43: 'erase',
  0x44: 'extended_erase',
  0x63: 'write_protect',
  0x73: 'write_unprotect',
  0x82: 'readout_protect',
  0x92: 'readout_unprotect',
};

/**
 * A fault hits occurrences `at`, `at+1`, ... `at+times-1` (1-based, counted per command name).
 * - nack: the last phase of the command is NACKed and nothing is done (for Get-type commands the
 *   first ACK is replaced).
 * - drop: the command is carried out but its last reply never leaves (Read: the data; Write,
 *   Erase, Go: the final ACK; Get-type: the whole reply).
 * - noise: `bytes` (default 00 FF 55) are sent before the first ACK.
 * - corrupt: Read Memory data goes out with its first byte inverted.
 */
export type Stm32SimFault =
  | { kind: 'nack'; command: SimCommand; at: number; times?: number }
  | { kind: 'drop'; command: SimCommand; at: number; times?: number }
  | { kind: 'noise'; command: SimCommand; at: number; times?: number; bytes?: number[] }
  | { kind: 'corrupt'; command: 'read'; at: number; times?: number };

export interface Stm32SimOptions {
  path: string;
  part?: SimPartName;
  /** Only used for the throttle; a pty carries bytes at any rate. Default 115200. */
  baud?: number;
  /** Delay traffic by its wire time at `baud`, 11 bits per byte (8E1). */
  throttle?: boolean;
  faults?: Stm32SimFault[];
  /** Called with every command-log line as it happens. */
  log?: (line: string) => void;
  /** Flash size in bytes (default: the part's). */
  flashSize?: number;
  /** Answer Get ID with this product ID instead of the part's (to test unknown parts). */
  pid?: number;
}

export type SimMode = 'init' | 'command' | 'running';

interface ActiveFaults {
  has(kind: Stm32SimFault['kind']): boolean;
  noise: number[] | undefined;
}

class Stopped extends Error {}

function hex(v: number, digits = 8): string {
  return `0x${v.toString(16).toUpperCase().padStart(digits, '0')}`;
}

function xor(bytes: ArrayLike<number>, seed = 0): number {
  let x = seed;
  for (let i = 0; i < bytes.length; i++) x ^= bytes[i] ?? 0;
  return x & 0xff;
}

export class Stm32Sim {
  readonly part: SimPart;
  readonly memory: SimMemory;
  /** Command log, e.g. 'INIT', 'GET_ID', 'WRITE 0x08000000+256', 'NACK bad checksum ...'. */
  readonly commands: string[] = [];
  private readonly counts = new Map<SimCommand, number>();
  private port: SerialPort | null = null;
  private inbuf: Buffer = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  private stopped = false;
  private loopDone: Promise<void> = Promise.resolve();
  private lineFreeAt = 0;
  private readProtected = false;
  private modeNow: SimMode = 'init';

  constructor(private readonly opts: Stm32SimOptions) {
    this.part = withFlashSize(SIM_PARTS[opts.part ?? 'f103'], opts.flashSize);
    this.memory = new SimMemory(this.part);
  }

  /** The simulated flash (erased = 0xFF). */
  get flash(): Buffer {
    return this.memory.flash;
  }

  get mode(): SimMode {
    return this.modeNow;
  }

  /** How many times a command arrived with a valid complement. */
  count(command: SimCommand): number {
    return this.counts.get(command) ?? 0;
  }

  async start(): Promise<void> {
    const port = new SerialPort({
      path: this.opts.path,
      baudRate: this.opts.baud ?? 115200,
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    port.on('data', (chunk: Buffer) => {
      this.inbuf = this.inbuf.length === 0 ? chunk : Buffer.concat([this.inbuf, chunk]);
      if (this.opts.throttle) this.occupyLine(chunk.length);
      const w = this.wake;
      this.wake = null;
      w?.();
    });
    port.on('error', (e) => this.log(`PORT ERROR ${e.message}`));
    this.port = port;
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const w = this.wake;
    this.wake = null;
    w?.();
    await this.loopDone;
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((r) => port.close(() => r()));
  }

  /** Like pressing reset with BOOT0 high: back to waiting for 0x7F, pending input dropped. */
  resetToBootloader(): void {
    this.inbuf = Buffer.alloc(0);
    this.modeNow = 'init';
    this.log('RESET');
  }

  async dump(file: string): Promise<void> {
    await writeFile(file, this.memory.flash);
  }

  private log(line: string): void {
    this.commands.push(line);
    this.opts.log?.(line);
  }

  // ---- byte I/O -------------------------------------------------------------------------

  private async next(): Promise<number> {
    while (this.inbuf.length === 0) {
      if (this.stopped) throw new Stopped();
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.stopped) throw new Stopped();
    const b = this.inbuf[0] ?? 0;
    this.inbuf = this.inbuf.subarray(1);
    return b;
  }

  private async take(n: number): Promise<Uint8Array> {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = await this.next();
    return out;
  }

  /** Wire time of `n` bytes at 11 bits each, accumulated on one virtual line clock. */
  private occupyLine(n: number): void {
    const baud = this.opts.baud ?? 115200;
    this.lineFreeAt = Math.max(this.lineFreeAt, performance.now()) + (n * 11 * 1000) / baud;
  }

  private async send(bytes: ArrayLike<number>): Promise<void> {
    const port = this.port;
    if (!port || this.stopped) return;
    if (this.opts.throttle) {
      this.occupyLine(bytes.length);
      const wait = this.lineFreeAt - performance.now();
      if (wait >= 1) await new Promise((r) => setTimeout(r, wait));
    }
    await new Promise<void>((resolve) => {
      port.write(Buffer.from(Array.from(bytes)), () => resolve());
    });
  }

  // ---- protocol -------------------------------------------------------------------------

  private async loop(): Promise<void> {
    try {
      for (;;) {
        const b = await this.next();
        if (this.modeNow !== 'command') {
          // Before init (and while "running" user code) only 0x7F means anything: the auto-baud
          // detector of the ROM. Accepting it after Go stands in for a reset into the bootloader.
          if (b === INIT) {
            this.modeNow = 'command';
            this.log('INIT');
            await this.send([ACK]);
          }
          continue;
        }
        const c = await this.next();
        if ((b ^ c) !== 0xff) {
          this.log(`NACK bad complement ${hex(b, 2)} ${hex(c, 2)}`);
          await this.send([NACK]);
          continue;
        }
        const name = CODES[b];
        if (!name || !this.part.commands.includes(b)) {
          this.log(`NACK unknown command ${hex(b, 2)}`);
          await this.send([NACK]);
          continue;
        }
        await this.dispatch(name);
      }
    } catch (err) {
      if (!(err instanceof Stopped)) this.log(`ERROR ${(err as Error).message}`);
    }
  }

  private faultsFor(name: SimCommand, n: number): ActiveFaults {
    const kinds = new Set<Stm32SimFault['kind']>();
    let noise: number[] | undefined;
    for (const f of this.opts.faults ?? []) {
      if (f.command !== name) continue;
      if (n < f.at || n >= f.at + (f.times ?? 1)) continue;
      kinds.add(f.kind);
      if (f.kind === 'noise') noise = f.bytes ?? [0x00, 0xff, 0x55];
    }
    if (kinds.size > 0) this.log(`FAULT ${[...kinds].join(',')} ${name} #${n}`);
    return { has: (k) => kinds.has(k), noise };
  }

  private async nack(reason: string): Promise<void> {
    this.log(`NACK ${reason}`);
    await this.send([NACK]);
  }

  /** Reads address + XOR; NACKs and returns null on a bad checksum. */
  private async address(): Promise<number | null> {
    const a = await this.take(5);
    if (xor(a.subarray(0, 4)) !== a[4]) {
      await this.nack(`bad address checksum ${Array.from(a, (x) => hex(x, 2)).join(' ')}`);
      return null;
    }
    return (((a[0] ?? 0) << 24) | ((a[1] ?? 0) << 16) | ((a[2] ?? 0) << 8) | (a[3] ?? 0)) >>> 0;
  }

  private async dispatch(name: SimCommand): Promise<void> {
    const n = (this.counts.get(name) ?? 0) + 1;
    this.counts.set(name, n);
    const f = this.faultsFor(name, n);
    if (f.noise) await this.send(f.noise);
    const part = this.part;

    switch (name) {
      case 'get':
      case 'get_version':
      case 'get_id': {
        this.log(name.toUpperCase());
        if (f.has('nack')) return this.nack(`${name} (fault)`);
        if (f.has('drop')) return;
        if (name === 'get') {
          const body = [part.bootloaderVersion, ...part.commands];
          return this.send([ACK, body.length - 1, ...body, ACK]);
        }
        if (name === 'get_version') {
          return this.send([ACK, part.bootloaderVersion, part.option1, part.option2, ACK]);
        }
        const pid = this.opts.pid ?? part.pid;
        return this.send([ACK, 0x01, (pid >> 8) & 0xff, pid & 0xff, ACK]);
      }

      case 'read': {
        if (this.readProtected) return this.nack('read: readout protection active');
        await this.send([ACK]);
        const addr = await this.address();
        if (addr === null) return;
        if (!this.memory.regionOf(addr)) return this.nack(`read: bad address ${hex(addr)}`);
        await this.send([ACK]);
        const [len, cpl] = await this.take(2);
        if (((len ?? 0) ^ (cpl ?? 0)) !== 0xff) return this.nack('read: bad length complement');
        const count = (len ?? 0) + 1;
        this.log(`READ ${hex(addr)}+${count}`);
        const data = this.memory.read(addr, count);
        if (typeof data === 'string') return this.nack(`read: ${data}`);
        if (f.has('nack')) return this.nack('read (fault)');
        await this.send([ACK]);
        if (f.has('drop')) return;
        if (f.has('corrupt')) data[0] = (data[0] ?? 0) ^ 0xff;
        return this.send(data);
      }

      case 'write': {
        if (this.readProtected) return this.nack('write: readout protection active');
        await this.send([ACK]);
        const addr = await this.address();
        if (addr === null) return;
        const region = this.memory.regionOf(addr);
        if (!region || region.kind === 'system' || region.kind === 'option') {
          return this.nack(`write: bad address ${hex(addr)}`);
        }
        if (addr % 4 !== 0) return this.nack(`write: address ${hex(addr)} not 4-aligned`);
        await this.send([ACK]);
        const len = await this.next();
        const data = await this.take(len + 1);
        const sum = await this.next();
        if (xor(data, len) !== sum) return this.nack(`write: bad checksum at ${hex(addr)}`);
        if ((len + 1) % 4 !== 0) return this.nack(`write: ${len + 1} bytes is not whole words`);
        this.log(`WRITE ${hex(addr)}+${len + 1}`);
        if (f.has('nack')) return this.nack('write (fault)');
        const problem = this.memory.write(addr, data);
        if (problem) return this.nack(`write: ${problem}`);
        if (f.has('drop')) return;
        return this.send([ACK]);
      }

      case 'erase': {
        if (this.readProtected) return this.nack('erase: readout protection active');
        await this.send([ACK]);
        const count = await this.next();
        if (count === 0xff) {
          const zero = await this.next();
          if (zero !== 0x00) return this.nack('erase: bad global erase checksum');
          this.log('ERASE global');
          if (f.has('nack')) return this.nack('erase (fault)');
          this.memory.massErase();
          if (f.has('drop')) return;
          return this.send([ACK]);
        }
        const pages = await this.take(count + 1);
        const sum = await this.next();
        if (xor(pages, count) !== sum) return this.nack('erase: bad checksum');
        this.log(`ERASE pages ${Array.from(pages).join(',')}`);
        if (f.has('nack')) return this.nack('erase (fault)');
        const problem = this.memory.erasePages(Array.from(pages));
        if (problem) return this.nack(`erase: ${problem}`);
        if (f.has('drop')) return;
        return this.send([ACK]);
      }

      case 'extended_erase': {
        if (this.readProtected) return this.nack('extended erase: readout protection active');
        await this.send([ACK]);
        const nb = await this.take(2);
        const count = ((nb[0] ?? 0) << 8) | (nb[1] ?? 0);
        if (count >= 0xfff0) {
          const sum = await this.next();
          if (xor(nb) !== sum) return this.nack('extended erase: bad special checksum');
          if (f.has('nack')) return this.nack('extended erase (fault)');
          let problem: string | null = null;
          if (count === 0xffff) {
            this.log('EXTENDED_ERASE mass');
            this.memory.massErase();
          } else if (count === 0xfffe || count === 0xfffd) {
            this.log(`EXTENDED_ERASE bank ${count === 0xfffe ? 1 : 2}`);
            problem = this.memory.eraseBank(count === 0xfffe ? 0 : 1);
          } else {
            problem = `reserved code ${hex(count, 4)}`;
          }
          if (problem) return this.nack(`extended erase: ${problem}`);
          if (f.has('drop')) return;
          return this.send([ACK]);
        }
        const raw = await this.take((count + 1) * 2);
        const sum = await this.next();
        if (xor(raw, xor(nb)) !== sum) return this.nack('extended erase: bad checksum');
        const pages: number[] = [];
        for (let i = 0; i < raw.length; i += 2)
          pages.push(((raw[i] ?? 0) << 8) | (raw[i + 1] ?? 0));
        this.log(`EXTENDED_ERASE pages ${pages.join(',')}`);
        if (f.has('nack')) return this.nack('extended erase (fault)');
        const problem = this.memory.erasePages(pages);
        if (problem) return this.nack(`extended erase: ${problem}`);
        if (f.has('drop')) return;
        return this.send([ACK]);
      }

      case 'go': {
        if (this.readProtected) return this.nack('go: readout protection active');
        await this.send([ACK]);
        const addr = await this.address();
        if (addr === null) return;
        if (!this.memory.isExecutable(addr)) return this.nack(`go: bad address ${hex(addr)}`);
        this.log(`GO ${hex(addr)}`);
        if (f.has('nack')) return this.nack('go (fault)');
        this.modeNow = 'running';
        if (f.has('drop')) return;
        return this.send([ACK]);
      }

      case 'write_protect': {
        await this.send([ACK]);
        const count = await this.next();
        const sectors = await this.take(count + 1);
        const sum = await this.next();
        if (xor(sectors, count) !== sum) return this.nack('write protect: bad checksum');
        this.log(`WRITE_PROTECT ${Array.from(sectors).join(',')}`);
        await this.send([ACK]);
        return this.systemReset();
      }

      case 'write_unprotect':
      case 'readout_protect':
      case 'readout_unprotect': {
        await this.send([ACK]);
        this.log(name.toUpperCase());
        if (name === 'readout_protect') this.readProtected = true;
        if (name === 'readout_unprotect') {
          // Removing readout protection mass-erases the flash (AN3155 3.13).
          this.readProtected = false;
          this.memory.massErase();
        }
        await this.send([ACK]);
        return this.systemReset();
      }
    }
  }

  /** The protection commands end with a system reset: the ROM starts over and wants 0x7F. */
  private systemReset(): void {
    this.modeNow = 'init';
    this.log('SYSTEM RESET');
  }
}

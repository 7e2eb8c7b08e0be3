/**
 * Our own AN3155 host (FLASHING.md 0.6, 4): one method per bootloader command, over any ByteLink.
 * Framing comes from an3155-codec.ts; behaviour and timeouts follow stm32flash 0.7 stm32.c
 * (FLASHING.md 4.1-4.3). Every failure is a FlashError: NACK -> 'protocol_error' (the command was
 * refused), silence -> 'timeout', stray bytes where an ACK belongs -> 'protocol_error'.
 */
import { FlashError } from '../../../shared/flash-state';
import {
  ACK,
  BUSY,
  CMD,
  CodecError,
  INIT,
  MAX_ERASE_PAGES,
  MAX_EXTENDED_ERASE_PAGES,
  NACK,
  addressFrame,
  commandFrame,
  eraseCommandOf,
  eraseGlobalPayload,
  erasePagesPayload,
  extendedErasePagesPayload,
  extendedEraseSpecialPayload,
  hex,
  parseGetReply,
  parseIdReply,
  parseVersionReply,
  readLengthFrame,
  writePayload,
  type GetReply,
  type VersionReply,
} from './an3155-codec';
import type { ByteLink } from './stm32-link';

/** Milliseconds. Defaults are stm32flash's (stm32.c: STM32_*_TIMEOUT); tests shorten them. */
export interface Stm32Timeouts {
  /** Any ordinary reply byte (ACK, Get data...). */
  replyMs: number;
  /** Reply to each 0x7F during init. */
  initMs: number;
  /** ACK after a Write Memory block is programmed (STM32_BLKWRITE_TIMEOUT 1 s). */
  writeMs: number;
  /** Per page of a page erase (STM32_PAGEERASE_TIMEOUT 5 s). */
  erasePageMs: number;
  /** Global / mass erase (STM32_MASSERASE_TIMEOUT 35 s). */
  massEraseMs: number;
}

export const DEFAULT_TIMEOUTS: Stm32Timeouts = {
  replyMs: 1000,
  initMs: 1000,
  writeMs: 1000,
  erasePageMs: 5000,
  massEraseMs: 35_000,
};

export type InitResult = 'ack' | 'already_initialised';

const NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(CMD).map(([name, code]) => [code, name]),
);

function cmdName(cmd: number): string {
  return NAMES[cmd] ?? hex(cmd, 2);
}

export class Stm32Client {
  readonly timeouts: Stm32Timeouts;
  private getReply: GetReply | null = null;

  constructor(
    private readonly link: ByteLink,
    timeouts: Partial<Stm32Timeouts> = {},
  ) {
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...timeouts };
  }

  /** The Get reply once get() has run; erase() needs it to choose 0x43 or 0x44. */
  get commands(): GetReply | null {
    return this.getReply;
  }

  /**
   * Synchronise with a fresh bootloader (FLASHING.md 4.1; stm32.c:366-412): send 0x7F and expect
   * ACK. NACK means the bootloader already ran a session: carry on. Silence may mean our 0x7F was
   * taken as the first byte of a command, so a second 0x7F (not its complement) must draw a NACK.
   */
  async init(): Promise<InitResult> {
    this.link.discardInput();
    await this.link.write(Uint8Array.of(INIT));
    const first = await this.readInitReply();
    if (first === ACK) return 'ack';
    if (first === NACK) return 'already_initialised';
    if (first !== null) {
      throw new FlashError(
        'no_sync',
        `unexpected byte ${hex(first, 2)} instead of ACK to 0x7F`,
        'check the baud rate, parity and wiring (TX/RX crossed, common ground)',
      );
    }
    await this.link.write(Uint8Array.of(INIT));
    const second = await this.readInitReply();
    if (second === NACK) return 'already_initialised';
    if (second === ACK) return 'ack';
    throw new FlashError(
      'no_sync',
      'the STM32 bootloader does not answer 0x7F',
      'hold BOOT0 high and reset the board, check TX/RX wiring and the baud rate',
    );
  }

  /** Get (0x00): bootloader version and the commands it supports. */
  async get(): Promise<GetReply> {
    await this.command(CMD.GET);
    const [n] = await this.read(1, 'Get count');
    const body = await this.read((n ?? 0) + 1, 'Get reply');
    await this.expectAck('Get', this.timeouts.replyMs);
    const reply = this.decode(() => parseGetReply(n ?? 0, body));
    this.getReply = reply;
    return reply;
  }

  /** Get Version & Read Protection status (0x01). */
  async getVersion(): Promise<VersionReply> {
    await this.command(CMD.GET_VERSION);
    const body = await this.read(3, 'Get Version reply');
    await this.expectAck('Get Version', this.timeouts.replyMs);
    return this.decode(() => parseVersionReply(body));
  }

  /** Get ID (0x02): the product ID the device table is keyed by. */
  async getId(): Promise<number> {
    await this.command(CMD.GET_ID);
    const [n] = await this.read(1, 'Get ID count');
    if (n === undefined || n > 16) {
      throw new FlashError('protocol_error', `Get ID: implausible length byte ${n}`);
    }
    const body = await this.read(n + 1, 'Get ID reply');
    await this.expectAck('Get ID', this.timeouts.replyMs);
    return this.decode(() => parseIdReply(n, body));
  }

  /** Read Memory (0x11): 1..256 bytes from `address` (FLASHING.md 4.2; stm32.c:577-616). */
  async readMemory(address: number, length: number): Promise<Uint8Array> {
    const lengthFrame = this.encode(() => readLengthFrame(length));
    const addr = this.encode(() => addressFrame(address));
    await this.command(CMD.READ_MEMORY, 'read protection may be active (RDP)');
    await this.link.write(addr);
    await this.expectAck(`Read Memory address ${hex(address)}`, this.timeouts.replyMs);
    await this.link.write(lengthFrame);
    await this.expectAck('Read Memory length', this.timeouts.replyMs);
    return this.read(length, `Read Memory data at ${hex(address)}`);
  }

  /**
   * Write Memory (0x31): up to 256 bytes at a 4-aligned address, padded with 0xFF to whole words
   * (FLASHING.md 4.2; stm32.c:618-682). The final ACK comes after programming (1 s).
   */
  async writeMemory(address: number, data: Uint8Array): Promise<void> {
    if (address % 4 !== 0) {
      throw new FlashError('internal', `Write Memory address ${hex(address)} is not 4-aligned`);
    }
    const payload = this.encode(() => writePayload(data));
    const addr = this.encode(() => addressFrame(address));
    await this.command(CMD.WRITE_MEMORY, 'flash may be write- or read-protected');
    await this.link.write(addr);
    await this.expectAck(`Write Memory address ${hex(address)}`, this.timeouts.replyMs);
    await this.link.write(payload);
    await this.expectAck(`Write Memory data at ${hex(address)}`, this.timeouts.writeMs);
  }

  /**
   * Erases pages (page or sector numbers of device-table.ts) or everything. Uses whichever of
   * Erase (0x43) and Extended Erase (0x44) the Get reply lists; Extended Erase goes in chunks of
   * at most 511 pages like stm32flash (FLASHING.md 4.3).
   */
  async erase(pages: readonly number[] | 'all'): Promise<void> {
    const reply = this.getReply ?? (await this.get());
    const cmd = eraseCommandOf(reply);
    if (cmd === null) {
      throw new FlashError(
        'protocol_error',
        'the bootloader lists neither Erase nor Extended Erase',
      );
    }
    if (pages === 'all') {
      const payload =
        cmd === CMD.ERASE ? eraseGlobalPayload() : extendedEraseSpecialPayload('mass');
      await this.command(cmd);
      await this.link.write(payload);
      await this.expectAck('mass erase', this.timeouts.massEraseMs);
      return;
    }
    if (pages.length === 0) return;
    const chunk = cmd === CMD.ERASE ? MAX_ERASE_PAGES : MAX_EXTENDED_ERASE_PAGES;
    for (let i = 0; i < pages.length; i += chunk) {
      const part = pages.slice(i, i + chunk);
      if (cmd === CMD.ERASE && part.some((p) => p > 0xff)) {
        throw new FlashError(
          'protocol_error',
          `page ${Math.max(...part)} cannot be named by Erase (0x43), which takes page numbers 0-255`,
        );
      }
      const payload = this.encode(() =>
        cmd === CMD.ERASE ? erasePagesPayload(part) : extendedErasePagesPayload(part),
      );
      await this.command(cmd);
      await this.link.write(payload);
      await this.expectAck(
        `erase of ${part.length} page(s) from ${part[0]}`,
        this.timeouts.erasePageMs * part.length,
      );
    }
  }

  /** Go (0x21): jump to `address` (the application's vector table, normally flash start). */
  async go(address: number): Promise<void> {
    const addr = this.encode(() => addressFrame(address));
    await this.command(CMD.GO);
    await this.link.write(addr);
    await this.expectAck(`Go ${hex(address)}`, this.timeouts.replyMs);
  }

  /** Sends `cmd, ~cmd` and waits for ACK. */
  private async command(cmd: number, nackHint?: string): Promise<void> {
    await this.link.write(commandFrame(cmd));
    await this.expectAck(cmdName(cmd), this.timeouts.replyMs, nackHint);
  }

  /**
   * Reads until ACK, NACK or the deadline. BUSY (0x76) means "still working" and is skipped, as
   * stm32flash does (stm32.c:189-229); any other byte is line noise or a desynchronised stream.
   */
  private async expectAck(what: string, timeoutMs: number, nackHint?: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = Math.max(1, deadline - Date.now());
      const [b] = await this.link.readExactly(1, left, `ACK for ${what}`);
      if (b === ACK) return;
      if (b === BUSY && Date.now() < deadline) continue;
      if (b === NACK) {
        throw new FlashError('protocol_error', `the bootloader refused ${what} (NACK)`, nackHint);
      }
      throw new FlashError(
        'protocol_error',
        `unexpected byte ${hex(b ?? 0, 2)} instead of ACK for ${what}`,
        'line noise or a baud/parity mismatch',
      );
    }
  }

  private async readInitReply(): Promise<number | null> {
    try {
      const [b] = await this.link.readExactly(1, this.timeouts.initMs, 'reply to 0x7F');
      return b ?? null;
    } catch (err) {
      if (err instanceof FlashError && err.code === 'timeout') return null;
      throw err;
    }
  }

  private read(n: number, what: string): Promise<Uint8Array> {
    return this.link.readExactly(n, this.timeouts.replyMs, what);
  }

  private encode<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof CodecError) throw new FlashError('internal', err.message);
      throw err;
    }
  }

  private decode<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof CodecError) throw new FlashError('protocol_error', err.message);
      throw err;
    }
  }
}

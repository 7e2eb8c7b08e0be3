/**
 * Turns whatever went wrong while flashing an ESP into a `FlashError` with a code the job manager
 * understands and a hint a person can act on (DESIGN.md example 3: the job reports `failed`).
 *
 * esptool-js throws plain `ESPError`s with English messages, serialport throws `Error`s with OS
 * messages; the patterns below are the ones those libraries actually produce (esptool-js 0.7.0
 * lib/esploader.js, lib/webserial.js; @serialport/bindings-cpp 13 messages on Linux/macOS/Windows).
 */
import { FlashError, type FlashErrorCode } from '../../../shared/flash-state';

/**
 * The name of event-transport.ts's PortClosedError. Matched by name, not `instanceof`: the class
 * extends esptool-js's ESPError, and this file is loaded by the hub, which must not load
 * esptool-js until something is flashed (issue 11, idle RSS).
 */
export const PORT_CLOSED_ERROR = 'PortClosedError';

export const HINTS = {
  no_sync:
    'Hold BOOT, tap EN/RST, try again; check the USB cable carries data; install the CP210x/CH340 driver.',
  wrong_chip: 'Pick the firmware built for the detected chip, or choose the board that matches it.',
  image_too_large:
    'The firmware does not fit this board: use a smaller build or partition layout, or a board with more flash.',
  port_vanished:
    'The board was unplugged or reset while flashing. Reconnect it (hold BOOT if it does not enter the bootloader by itself) and flash again.',
  timeout:
    'The board stopped answering. Check the cable and power, try a lower baud rate (e.g. 115200), then try again.',
  port_not_found:
    'The serial port is gone: plug the board in again and pick its port from the list.',
  port_busy:
    'Another program has the port open (serial monitor, IDE, another flash job): close it and retry. On Linux your user must be in the dialout group.',
  verify_failed:
    'What is in flash differs from the image. Flash again at a lower baud rate; if it keeps failing the board may be underpowered or its flash worn.',
  protocol_error:
    'The serial link is unreliable: try a lower baud rate, a shorter or better USB cable, or another USB port.',
  bad_image: 'Check that you picked the right firmware files and flash addresses.',
  internal: 'This is a bug in the flasher; please report it together with the log.',
} as const satisfies Partial<Record<FlashErrorCode, string>>;

/** Where in the job the error happened; the same symptom means different things per stage. */
export type EspStage = 'open' | 'connect' | 'stub' | 'write' | 'verify' | 'reset';

export interface ErrorContext {
  stage: EspStage;
  /** Set when the adapter saw the port close or fail underneath us. */
  portLost?: Error | null;
  /** esptool-js's diagnosis of the last failed connect attempt ("Wrong boot mode detected"). */
  lastConnectError?: string;
  path?: string;
}

function hintFor(code: FlashErrorCode): string | undefined {
  return (HINTS as Partial<Record<FlashErrorCode, string>>)[code];
}

export function flashError(code: FlashErrorCode, message: string, hint?: string): FlashError {
  return new FlashError(code, message, hint ?? hintFor(code));
}

export function wrongChipError(
  detected: string,
  wanted: string,
  what = 'the firmware',
): FlashError {
  return flashError(
    'wrong_chip',
    `${what} is for ${wanted} but the board is ${detected}`,
    `${HINTS.wrong_chip} Detected: ${detected}.`,
  );
}

/** Stub error codes (esp-flasher-stub src/commands.h, legacy stub_flasher.h) and ROM codes (FLASHING.md 2.2). */
const STUB_STATUS: Record<number, string> = {
  0xc0: 'bad data length',
  0xc1: 'bad checksum',
  0xc2: 'bad block size',
  0xc3: 'invalid command',
  0xc4: 'SPI flash operation failed',
  0xc5: 'SPI flash unlock failed',
  0xc6: 'not in flash mode',
  0xc7: 'inflate error',
  0xc8: 'not enough data',
  0xc9: 'too much data',
  0xff: 'command not implemented',
};
const ROM_STATUS: Record<number, string> = {
  0x05: 'received message is invalid',
  0x06: 'wrong result',
  0x07: 'checksum error',
  0x08: 'flash write error',
  0x09: 'flash read error',
  0x0b: 'deflate failed',
  0x0c: 'Adler32 mismatch',
  0x0d: 'deflate parameter error',
};

/** "…failed with status 193,0" -> "bad checksum (0xc1)". */
export function describeStatus(message: string): string | undefined {
  const m = /status (\d+),(\d+)/.exec(message);
  if (!m) return undefined;
  const first = Number(m[1]);
  const second = Number(m[2]);
  if (STUB_STATUS[first]) return `${STUB_STATUS[first]} (0x${first.toString(16)})`;
  if (first === 1 && ROM_STATUS[second]) return `${ROM_STATUS[second]} (0x${second.toString(16)})`;
  return `status ${first},${second}`;
}

const OPEN_NOT_FOUND = /ENOENT|No such file or directory|File not found|cannot find the file/i;
const OPEN_BUSY =
  /Cannot lock port|Resource temporarily unavailable|EBUSY|Access denied|EACCES|Permission denied|already open/i;
const LINK_GONE =
  /EIO|i\/o error|Port is not open|disconnected|device has been lost|ENXIO|EBADF|bad file descriptor/i;
const TIMEOUT = /No serial data received|Serial data stream stopped|timed? ?out|Timeout/i;

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : JSON.stringify(err);
}

/** Classifies any error thrown while flashing; `FlashError`s pass through unchanged. */
export function toFlashError(err: unknown, ctx: ErrorContext): FlashError {
  if (err instanceof FlashError) return err;
  const msg = messageOf(err);
  const where = ctx.path ? ` (${ctx.path})` : '';

  if (ctx.stage === 'open') {
    if (OPEN_NOT_FOUND.test(msg))
      return flashError('port_not_found', `serial port not found${where}: ${msg}`);
    if (OPEN_BUSY.test(msg)) return flashError('port_busy', `serial port is busy${where}: ${msg}`);
    return flashError('port_not_found', `could not open the serial port${where}: ${msg}`);
  }
  if (
    ctx.portLost ||
    (err instanceof Error && err.name === PORT_CLOSED_ERROR) ||
    LINK_GONE.test(msg)
  ) {
    const cause = ctx.portLost?.message ?? msg;
    return flashError(
      'port_vanished',
      `the serial port went away during ${ctx.stage}${where}: ${cause}`,
    );
  }
  if (
    /Failed to connect with the device/i.test(msg) ||
    (ctx.stage === 'connect' && TIMEOUT.test(msg))
  ) {
    const why = ctx.lastConnectError
      ? ` (${ctx.lastConnectError.replace(/\s+/g, ' ').trim()})`
      : '';
    return flashError('no_sync', `no answer from the bootloader${why}`);
  }
  if (/MD5 of file does not match/i.test(msg)) {
    return flashError(
      'verify_failed',
      'verification failed: the MD5 of the flash does not match the image',
    );
  }
  const status = describeStatus(msg);
  if (status) {
    return flashError(
      'protocol_error',
      `the board rejected a command during ${ctx.stage}: ${status} — ${msg}`,
    );
  }
  if (TIMEOUT.test(msg)) {
    return flashError('timeout', `the board stopped answering during ${ctx.stage}: ${msg}`);
  }
  if (
    /Invalid head of packet|Invalid SLIP escape|invalid response|Unexpected response|Failed to start stub/i.test(
      msg,
    )
  ) {
    return flashError('protocol_error', `garbled reply during ${ctx.stage}: ${msg}`);
  }
  if (/Unexpected CHIP magic value|Unexpected chip ID|unknown chip/i.test(msg)) {
    return flashError(
      'wrong_chip',
      `unsupported chip: ${msg}`,
      'This chip is not supported by the flasher.',
    );
  }
  return flashError('internal', `${ctx.stage} failed: ${msg}`);
}

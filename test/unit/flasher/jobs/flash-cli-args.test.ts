/**
 * The pure parts of the flasher CLI: flags -> validated options, IMAGE[@ADDR] arguments, exit
 * codes, and what the progress view prints.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  EXIT,
  exitCodeForFlash,
  optionsFromFlags,
  readImageArgs,
} from '../../../../src/main/cli/flash-args';
import { ProgressView, progressBar } from '../../../../src/main/cli/flash-progress';
import { CliError } from '../../../../src/main/cli/cli-errors';
import { formatPanic, formatPortsTable } from '../../../../src/main/cli/flasher-cli';

const dir = mkdtempSync(join(tmpdir(), 'fb-cli-args-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cliError(fn: () => unknown): CliError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return err as CliError;
  }
  throw new Error('expected a CliError');
}

describe('flasher CLI arguments', () => {
  it('maps flags onto the API options and names the bad flag', () => {
    expect(
      optionsFromFlags('/dev/x', {
        chip: 'esp32',
        baud: '921600',
        eraseAll: true,
        verify: false,
        compress: false,
        stm32Entry: '-dtr,rts:dtr',
        provision: 'template',
        template: 'set id {id}\\n',
        wifiSsid: 'Lab',
        wifiPass: 'password1',
        onlineTimeout: '30',
      }),
    ).toEqual({
      port: '/dev/x',
      chip: 'esp32',
      baud: 921600,
      eraseAll: true,
      verify: false,
      compress: false,
      stm32: { entrySequence: '-dtr,rts:dtr' },
      provision: {
        kind: 'template',
        template: 'set id {id}\\n',
        wifi: { ssid: 'Lab', pass: 'password1' },
        onlineTimeoutMs: 30_000,
      },
    });
    const bad = cliError(() => optionsFromFlags('/dev/x', { chip: 'esp99' }));
    expect(bad.exitCode).toBe(EXIT.usage);
    expect(bad.message).toMatch(/^invalid options: --chip/);
    expect(cliError(() => optionsFromFlags('/dev/x', { baud: '1.5' })).message).toMatch(/--baud/);
    expect(
      cliError(() => optionsFromFlags('/dev/x', { provision: 'mos', stm32Parity: 'odd' })).message,
    ).toMatch(/^invalid options: --stm32-parity/);
    expect(cliError(() => optionsFromFlags('/dev/x', { provision: 'nope' })).message).toMatch(
      /^invalid options: --provision/,
    );
    expect(
      cliError(() => optionsFromFlags('/dev/x', { eraseAll: true, reset: 'soft' })).message,
    ).toMatch(/^invalid options: --reset/);
  });

  it('reads IMAGE[@ADDR] arguments; a path that exists as given wins', () => {
    const a = join(dir, 'a.bin');
    const at = join(dir, 'fw@0x1000');
    writeFileSync(a, Buffer.from([1, 2, 3]));
    writeFileSync(at, Buffer.from([4]));
    expect(readImageArgs([`${a}@0x10000`, at])).toEqual([
      { name: 'a.bin', data: Uint8Array.from([1, 2, 3]), address: 0x10000 },
      { name: 'fw@0x1000', data: Uint8Array.from([4]) },
    ]);
    expect(cliError(() => readImageArgs([])).exitCode).toBe(EXIT.usage);
    expect(cliError(() => readImageArgs([join(dir, 'missing.bin')])).message).toMatch(
      /cannot read firmware/,
    );
    expect(cliError(() => readImageArgs([dir])).message).toMatch(/not a regular file/);
  });

  it('has one exit code per kind of failure', () => {
    expect(exitCodeForFlash('port_busy')).toBe(EXIT.port);
    expect(exitCodeForFlash('port_vanished')).toBe(EXIT.port);
    expect(exitCodeForFlash('no_sync')).toBe(EXIT.board);
    expect(exitCodeForFlash('verify_failed')).toBe(EXIT.failed);
    expect(exitCodeForFlash('provision_failed')).toBe(EXIT.provision);
    expect(exitCodeForFlash('cancelled')).toBe(EXIT.cancelled);
  });

  it('draws a bar on a TTY and decile lines elsewhere', () => {
    expect(progressBar({ state: 'writing', bytes: 512, total: 1024 }, 10)).toBe(
      '[#####-----]  50%  0.5 KB / 1.0 KB',
    );
    expect(
      progressBar({ state: 'writing', bytes: 0, total: 2 * 1024 * 1024, file: 1, files: 2 }, 4),
    ).toBe('[----]   0%  0.0 KB / 2.00 MB  (file 2/2)');
    const tty = new ProgressView(true);
    expect(tty.update({ state: 'connecting', attempt: 2 })).toEqual({
      lines: ['Connecting (attempt 2)...'],
      bar: null,
    });
    expect(tty.update({ state: 'writing', bytes: 1, total: 4 })).toMatchObject({
      lines: ['Writing...'],
      bar: expect.stringMatching(/25%/),
    });
    const plain = new ProgressView(false);
    plain.update({ state: 'writing', bytes: 0, total: 100 });
    expect(plain.update({ state: 'writing', bytes: 5, total: 100 }).lines).toEqual([]);
    expect(plain.update({ state: 'writing', bytes: 12, total: 100 }).lines).toEqual([
      '  10%  (12/100 bytes)',
    ]);
    expect(plain.update({ state: 'failed', code: 'timeout', message: 'x' }).lines).toEqual([]);
  });

  it('formats the port table and decoded panics', () => {
    expect(formatPortsTable([])).toBe('No serial ports found.\n');
    const table = formatPortsTable([
      {
        path: '/dev/ttyUSB0',
        friendlyName: 'CP210x USB to UART (ttyUSB0)',
        vendorId: '10c4',
        productId: 'ea60',
        serialNumber: '0001',
        kind: 'usb',
      },
    ]);
    expect(table.split('\n')[0]).toMatch(/^PORT\s+NAME\s+VID:PID\s+SERIAL$/);
    expect(table).toContain('10c4:ea60');
    const text = formatPanic({
      reason: 'StoreProhibited',
      kind: 'exception',
      core: 1,
      arch: 'xtensa',
      pc: 0x400d1b3a,
      fn: 'app_main',
      offset: 0x1a,
      faultAddress: 0x10,
      frames: [{ pc: 0x400d1b37, sp: 0x3ffb1f50, fn: 'app_main', offset: 0x17 }],
      corrupted: true,
      registers: {},
      lines: [],
    });
    expect(text).toContain('--- panic: StoreProhibited in app_main+0x1a (core 1)');
    expect(text).toContain('fault address 0x10');
    expect(text).toContain('#0 ');
    expect(text).toContain('(backtrace corrupted)');
  });
});

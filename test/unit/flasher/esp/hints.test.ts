import { describe, it, expect } from 'vitest';
import { ESPError, TimeoutError } from 'esptool-js';
import { FlashError } from '../../../../src/shared/flash-state';
import { PortClosedError } from '../../../../src/main/flasher/esp/event-transport';
import { describeStatus, HINTS, toFlashError } from '../../../../src/main/flasher/esp/hints';

describe('toFlashError', () => {
  it('maps a failed connect to no_sync with the BOOT/EN/cable/driver hint', () => {
    const fe = toFlashError(new ESPError('Failed to connect with the device'), {
      stage: 'connect',
      lastConnectError:
        'Wrong boot mode detected (0x13).\n   This chip needs to be in download mode.',
    });
    expect(fe.code).toBe('no_sync');
    expect(fe.message).toMatch(/Wrong boot mode detected \(0x13\)\. This chip/);
    expect(fe.hint).toBe(HINTS.no_sync);
    expect(fe.hint).toMatch(/Hold BOOT, tap EN\/RST/);
    expect(fe.hint).toMatch(/CP210x\/CH340/);
  });

  it('maps open failures to port_not_found / port_busy', () => {
    expect(
      toFlashError(new Error('Error: No such file or directory, cannot open /dev/ttyUSB9'), {
        stage: 'open',
      }).code,
    ).toBe('port_not_found');
    expect(
      toFlashError(new Error('Error Resource temporarily unavailable Cannot lock port'), {
        stage: 'open',
      }).code,
    ).toBe('port_busy');
    expect(
      toFlashError(new Error('Error: Permission denied, cannot open /dev/ttyUSB0'), {
        stage: 'open',
      }).hint,
    ).toMatch(/dialout/);
  });

  it('maps a lost port to port_vanished whatever the symptom was', () => {
    const lost = new Error('EIO: i/o error, write');
    const fe = toFlashError(new TimeoutError('No serial data received'), {
      stage: 'write',
      portLost: lost,
    });
    expect(fe.code).toBe('port_vanished');
    expect(fe.message).toMatch(/EIO/);
    expect(fe.hint).toMatch(/unplugged or reset/);
    expect(toFlashError(new PortClosedError(null), { stage: 'verify' }).code).toBe('port_vanished');
  });

  it('maps a silent board mid-write to timeout, and during connect to no_sync', () => {
    expect(
      toFlashError(new TimeoutError('No serial data received within 3000 ms'), { stage: 'write' })
        .code,
    ).toBe('timeout');
    expect(
      toFlashError(new TimeoutError('No serial data received within 3000 ms'), { stage: 'connect' })
        .code,
    ).toBe('no_sync');
  });

  it('maps a rejected block to protocol_error and names the stub error', () => {
    const fe = toFlashError(
      new ESPError('Failed to write compressed data to flash after seq 2 failed with status 193,0'),
      { stage: 'write' },
    );
    expect(fe.code).toBe('protocol_error');
    expect(fe.message).toMatch(/bad checksum \(0xc1\)/);
    expect(fe.hint).toMatch(/lower baud rate/);
  });

  it('maps an MD5 mismatch to verify_failed and garbage to protocol_error', () => {
    expect(
      toFlashError(new ESPError('MD5 of file does not match data in flash!'), { stage: 'write' })
        .code,
    ).toBe('verify_failed');
    expect(
      toFlashError(
        new ESPError('Invalid head of packet (0x49): Possible serial noise or corruption.'),
        {
          stage: 'stub',
        },
      ).code,
    ).toBe('protocol_error');
  });

  it('passes FlashErrors through and falls back to internal', () => {
    const own = new FlashError('wrong_chip', 'x', 'y');
    expect(toFlashError(own, { stage: 'write' })).toBe(own);
    const fe = toFlashError(new TypeError('undefined is not a function'), { stage: 'write' });
    expect(fe.code).toBe('internal');
    expect(fe.hint).toMatch(/bug/);
  });
});

describe('describeStatus', () => {
  it('decodes stub and ROM status bytes', () => {
    expect(describeStatus('failed with status 199,0')).toBe('inflate error (0xc7)');
    expect(describeStatus('failed with status 1,7')).toBe('checksum error (0x7)');
    expect(describeStatus('no status here')).toBeUndefined();
  });
});

/**
 * The plain-data options of an ESP flash job and their limits, apart from the flashing code: the
 * hub validates requests with them without loading esptool-js and the serial port code, which
 * run in the flash worker (issue 11, idle RSS).
 */
import Type from 'typebox';
import { ESP_CHIPS } from '../../firmware/esp-chips';

/** Highest baud we offer: what USB-UART bridges on ESP boards reliably do (FLASHING.md 6). */
export const MAX_ESP_BAUD = 921600;
export const DEFAULT_ESP_BAUD = 460800;
export const DEFAULT_ROM_BAUD = 115200;
/** Every option of an ESP flash job that is plain data (validated; the REST layer can reuse it). */
export const EspFlashOptions = Type.Object({
  path: Type.String({ minLength: 1 }),
  baud: Type.Optional(Type.Integer({ minimum: 9600, maximum: MAX_ESP_BAUD })),
  romBaud: Type.Optional(Type.Integer({ minimum: 9600, maximum: MAX_ESP_BAUD })),
  chip: Type.Optional(Type.Enum(['auto', ...ESP_CHIPS])),
  eraseAll: Type.Optional(Type.Boolean()),
  compress: Type.Optional(Type.Boolean()),
  /**
   * Kept for the shared options shape; ESP writes are always checked by MD5 (esptool does the
   * same), so `false` skips nothing here. STM32 jobs use it to skip the read-back.
   */
  verify: Type.Optional(Type.Boolean()),
  flashMode: Type.Optional(Type.Enum(['keep', 'qio', 'qout', 'dio', 'dout'])),
  flashFreq: Type.Optional(
    Type.Enum([
      'keep',
      '80m',
      '60m',
      '48m',
      '40m',
      '30m',
      '26m',
      '24m',
      '20m',
      '16m',
      '15m',
      '12m',
    ]),
  ),
  flashSize: Type.Optional(
    Type.Enum([
      'keep',
      'detect',
      '256KB',
      '512KB',
      '1MB',
      '2MB',
      '2MB-c1',
      '4MB',
      '4MB-c1',
      '8MB',
      '16MB',
      '32MB',
      '64MB',
      '128MB',
    ]),
  ),
  reset: Type.Optional(Type.Enum(['hard', 'none'])),
  before: Type.Optional(Type.Enum(['default_reset', 'no_reset'])),
  usbInfo: Type.Optional(
    Type.Object({
      usbVendorId: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffff })),
      usbProductId: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffff })),
    }),
  ),
});
export type EspFlashOptions = Type.Static<typeof EspFlashOptions>;

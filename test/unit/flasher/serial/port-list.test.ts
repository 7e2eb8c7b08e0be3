import { describe, expect, it } from 'vitest';
import {
  friendlyNameFor,
  normalizeUsbId,
  parseByIdName,
} from '../../../../src/main/flasher/serial/port-list';

describe('parseByIdName', () => {
  it('splits udev by-id names', () => {
    expect(
      parseByIdName('usb-Silicon_Labs_CP2102N_USB_to_UART_Bridge_Controller_9e1ed2b6-if00-port0'),
    ).toEqual({
      interfaceNumber: 0,
      manufacturer: 'Silicon Labs',
      product: 'CP2102N USB to UART Bridge Controller',
      serialNumber: '9e1ed2b6',
    });
    expect(parseByIdName('usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0')).toMatchObject({
      manufacturer: 'FTDI',
      product: 'FT232R USB UART',
      serialNumber: 'A50285BI',
    });
    expect(
      parseByIdName('usb-Espressif_USB_JTAG_serial_debug_unit_F4:12:FA:43:6F:2C-if00'),
    ).toMatchObject({
      manufacturer: 'Espressif',
      serialNumber: 'F4:12:FA:43:6F:2C',
    });
    expect(
      parseByIdName('usb-STMicroelectronics_STM32_STLink_066DFF485671664867061542-if02'),
    ).toMatchObject({
      interfaceNumber: 2,
      serialNumber: '066DFF485671664867061542',
    });
  });

  it('does not invent a serial number where there is none', () => {
    expect(parseByIdName('usb-1a86_USB_Serial-if00-port0')).toEqual({
      interfaceNumber: 0,
      manufacturer: '1a86',
      product: 'USB Serial',
    });
  });

  it('ignores names that are not USB by-id links', () => {
    expect(parseByIdName('pci-0000:00:14.0-usb-0:2:1.0-port0')).toEqual({});
    expect(parseByIdName('')).toEqual({});
  });
});

describe('normalizeUsbId', () => {
  it('normalises ids to four lower-case hex digits', () => {
    expect(normalizeUsbId('10C4')).toBe('10c4');
    expect(normalizeUsbId('0x303A')).toBe('303a');
    expect(normalizeUsbId('403')).toBe('0403');
    expect(normalizeUsbId('xyz')).toBeUndefined();
    expect(normalizeUsbId('123456')).toBeUndefined();
    expect(normalizeUsbId(undefined)).toBeUndefined();
  });
});

describe('friendlyNameFor', () => {
  it('prefers known VID:PID names, then product, then manufacturer', () => {
    expect(
      friendlyNameFor({ path: '/dev/ttyUSB0', vendorId: '10c4', productId: 'ea60', kind: 'usb' }),
    ).toBe('CP210x USB to UART (ttyUSB0)');
    expect(
      friendlyNameFor({ path: '/dev/ttyACM0', vendorId: '303a', productId: '1001', kind: 'usb' }),
    ).toBe('Espressif USB JTAG/serial debug unit (ttyACM0)');
    expect(
      friendlyNameFor({ path: '/dev/ttyACM1', vendorId: '0483', productId: '374b', kind: 'usb' }),
    ).toBe('ST-LINK/V2-1 Virtual COM Port (ttyACM1)');
    expect(
      friendlyNameFor({
        path: '/dev/ttyUSB3',
        vendorId: 'abcd',
        productId: '0001',
        product: 'Gadget',
        kind: 'usb',
      }),
    ).toBe('Gadget (ttyUSB3)');
    expect(friendlyNameFor({ path: '/dev/ttyUSB4', manufacturer: 'ACME', kind: 'usb' })).toBe(
      'ACME serial port (ttyUSB4)',
    );
    expect(friendlyNameFor({ path: '/tmp/sim/b', kind: 'pty' })).toBe('Virtual serial port (b)');
  });
});

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listPorts, type PortInfo } from '../../../../src/main/flasher/serial/port-list';
import { openPtyPair, type PtyPair } from '../../../support/pty-pair';
import { makeFakeTree, type FakeTree } from './fake-dev-tree';

let tree: FakeTree;
let pty: PtyPair;

beforeAll(async () => {
  tree = makeFakeTree();
  tree.addDevice('ttyUSB0');
  tree.addDevice('ttyUSB1');
  tree.addDevice('ttyACM0');
  tree.addDevice('ttyS0'); // legacy UART: not part of the USB fallback scan
  tree.addDevice('tty0');
  tree.addByIdLink(
    'usb-Silicon_Labs_CP2102N_USB_to_UART_Bridge_Controller_0001-if00-port0',
    'ttyUSB0',
  );
  tree.addByIdLink('usb-Espressif_USB_JTAG_serial_debug_unit_F4:12:FA:43:6F:2C-if00', 'ttyACM0');
  tree.addByIdLink('usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0', 'ttyUSB9'); // dangling: unplugged
  tree.addUsbSysfs(
    'ttyUSB0',
    '1-1',
    {
      idVendor: '10c4',
      idProduct: 'ea60',
      serial: '0001',
      manufacturer: 'Silicon Labs',
      product: 'CP2102N USB to UART Bridge Controller',
    },
    'usb-serial',
  );
  tree.addUsbSysfs(
    'ttyACM0',
    '1-2',
    { idVendor: '303a', idProduct: '1001', serial: 'F4:12:FA:43:6F:2C', manufacturer: 'Espressif' },
    'acm',
  );
  pty = await openPtyPair();
});

afterAll(async () => {
  tree.cleanup();
  await pty.close();
});

function byPath(list: PortInfo[], name: string): PortInfo | undefined {
  return list.find((p) => p.path.endsWith(`/${name}`));
}

describe('listPorts fallback scan', () => {
  it('lists USB ports with ids, serials, by-id links and friendly names from /dev + /sys', async () => {
    const list = await listPorts({ devRoot: tree.dev, sysRoot: tree.sys, systemList: null });
    expect(list.map((p) => p.path.split('/').pop())).toEqual(['ttyACM0', 'ttyUSB0', 'ttyUSB1']);
    expect(byPath(list, 'ttyUSB0')).toEqual({
      path: `${tree.dev}/ttyUSB0`,
      friendlyName: 'CP210x USB to UART (ttyUSB0)',
      vendorId: '10c4',
      productId: 'ea60',
      serialNumber: '0001',
      manufacturer: 'Silicon Labs',
      product: 'CP2102N USB to UART Bridge Controller',
      byId: `${tree.dev}/serial/by-id/usb-Silicon_Labs_CP2102N_USB_to_UART_Bridge_Controller_0001-if00-port0`,
      kind: 'usb',
    });
    expect(byPath(list, 'ttyACM0')).toMatchObject({
      vendorId: '303a',
      productId: '1001',
      serialNumber: 'F4:12:FA:43:6F:2C',
      friendlyName: 'Espressif USB JTAG/serial debug unit (ttyACM0)',
      kind: 'usb',
    });
    // No sysfs, no by-id: still listed, with a generic name.
    expect(byPath(list, 'ttyUSB1')).toEqual({
      path: `${tree.dev}/ttyUSB1`,
      friendlyName: 'Serial port (ttyUSB1)',
      kind: 'usb',
    });
  });

  it('never throws when the system listing fails (udevadm missing) and says why', async () => {
    const warnings: string[] = [];
    const list = await listPorts({
      devRoot: tree.dev,
      sysRoot: tree.sys,
      systemList: async () => {
        throw Object.assign(new Error('spawn udevadm ENOENT'), { code: 'ENOENT' });
      },
      onWarning: (m) => warnings.push(m),
    });
    expect(list).toHaveLength(3);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/udevadm ENOENT/);
  });

  it.skipIf(process.platform !== 'linux')(
    'asks udevadm only when it is on PATH: no fork per poll in a container',
    async () => {
      const bin = mkdtempSync(join(tmpdir(), 'fb-path-'));
      const marker = join(bin, 'ran');
      const path = process.env['PATH'];
      try {
        process.env['PATH'] = bin;
        const warnings: string[] = [];
        await listPorts({
          devRoot: tree.dev,
          sysRoot: tree.sys,
          onWarning: (m) => warnings.push(m),
        });
        expect(warnings).toEqual([expect.stringMatching(/udevadm missing/)]);
        // A udevadm that appears later is used (this one lists nothing and leaves a marker).
        writeFileSync(join(bin, 'udevadm'), `#!/bin/sh\n/usr/bin/touch '${marker}'\n`, {
          mode: 0o755,
        });
        warnings.length = 0;
        const list = await listPorts({
          devRoot: tree.dev,
          sysRoot: tree.sys,
          onWarning: (m) => warnings.push(m),
        });
        expect(warnings).toEqual([]);
        expect(existsSync(marker)).toBe(true);
        expect(list).toHaveLength(3);
      } finally {
        process.env['PATH'] = path;
        rmSync(bin, { recursive: true, force: true });
      }
    },
  );

  it('survives garbage from the system listing and from a throwing warning listener', async () => {
    const list = await listPorts({
      devRoot: tree.dev,
      sysRoot: tree.sys,
      systemList: async () => [{ path: '' }, null as never, { path: '/dev/ttyS3' }],
      onWarning: () => {
        throw new Error('listener bug');
      },
    });
    expect(list).toHaveLength(3);
    const failing = await listPorts({
      devRoot: tree.dev,
      sysRoot: tree.sys,
      systemList: () => Promise.reject(new Error('x')),
      onWarning: () => {
        throw new Error('listener bug');
      },
    });
    expect(failing).toHaveLength(3);
  });

  it('merges the system listing with the scan (udev ids upper-case, by-id from the scan)', async () => {
    const list = await listPorts({
      devRoot: tree.dev,
      sysRoot: tree.sys,
      systemList: async () => [
        {
          path: `${tree.dev}/ttyUSB0`,
          vendorId: '10C4',
          productId: 'EA60',
          serialNumber: '0001',
          manufacturer: 'Silicon Labs',
        },
        { path: '/dev/ttyS0' },
        { path: '/dev/ttyAMA0' },
      ],
    });
    expect(byPath(list, 'ttyUSB0')).toMatchObject({
      vendorId: '10c4',
      productId: 'ea60',
      byId: expect.any(String),
    });
    expect(list.find((p) => p.path === '/dev/ttyS0')).toBeUndefined();
    expect(list.find((p) => p.path === '/dev/ttyAMA0')).toMatchObject({ kind: 'other' });
    const withBuiltin = await listPorts({
      devRoot: tree.dev,
      sysRoot: tree.sys,
      includeBuiltinUarts: true,
      systemList: async () => [{ path: '/dev/ttyS0' }],
    });
    expect(withBuiltin.find((p) => p.path === '/dev/ttyS0')).toBeDefined();
  });

  it('includes existing extra paths as pty ports and skips missing ones', async () => {
    const list = await listPorts({
      devRoot: tree.dev,
      sysRoot: tree.sys,
      systemList: null,
      extraPaths: [pty.b, `${tree.root}/nope`],
    });
    expect(list.find((p) => p.path === pty.b)).toEqual({
      path: pty.b,
      friendlyName: 'Virtual serial port (b)',
      kind: 'pty',
    });
    expect(list).toHaveLength(4);
  });

  it('returns an empty list for missing roots', async () => {
    expect(
      await listPorts({
        devRoot: `${tree.root}/none`,
        sysRoot: `${tree.root}/none`,
        systemList: null,
      }),
    ).toEqual([]);
  });

  it('works with the real system on this machine without throwing', async () => {
    const list = await listPorts();
    expect(Array.isArray(list)).toBe(true);
    for (const p of list) expect(typeof p.friendlyName).toBe('string');
  });
});

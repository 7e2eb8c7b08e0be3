/**
 * Builds a small but faithful /dev + /sys tree in a temp dir: device nodes as files, udev-style
 * relative by-id symlinks, and sysfs USB device directories with the attribute files and the
 * `class/tty/<name>/device` links the kernel makes (usb-serial: device -> port dir under the
 * interface; CDC-ACM: device -> interface dir).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, dirname } from 'node:path';

export interface FakeTree {
  root: string;
  dev: string;
  sys: string;
  addDevice(name: string): string;
  addByIdLink(linkName: string, target: string): void;
  addUsbSysfs(
    tty: string,
    usbDir: string,
    attrs: Record<string, string>,
    layout: 'usb-serial' | 'acm',
  ): void;
  remove(path: string): void;
  cleanup(): void;
}

export function makeFakeTree(): FakeTree {
  const root = mkdtempSync(join(tmpdir(), 'fb-devtree-'));
  const dev = join(root, 'dev');
  const sys = join(root, 'sys');
  mkdirSync(join(dev, 'serial', 'by-id'), { recursive: true });
  mkdirSync(join(sys, 'class', 'tty'), { recursive: true });
  return {
    root,
    dev,
    sys,
    addDevice(name) {
      const p = join(dev, name);
      writeFileSync(p, '');
      return p;
    },
    addByIdLink(linkName, target) {
      const link = join(dev, 'serial', 'by-id', linkName);
      symlinkSync(relative(dirname(link), join(dev, target)), link);
    },
    addUsbSysfs(tty, usbDir, attrs, layout) {
      const usb = join(sys, 'devices', 'pci0000:00', '0000:00:14.0', 'usb1', usbDir);
      mkdirSync(usb, { recursive: true });
      for (const [k, v] of Object.entries(attrs)) writeFileSync(join(usb, k), `${v}\n`);
      const intf = join(usb, `${usbDir}:1.0`);
      const deviceDir = layout === 'usb-serial' ? join(intf, tty) : intf;
      mkdirSync(join(deviceDir, 'tty', tty), { recursive: true });
      const classDir = join(sys, 'class', 'tty', tty);
      mkdirSync(classDir, { recursive: true });
      symlinkSync(relative(classDir, deviceDir), join(classDir, 'device'));
    },
    remove(path) {
      rmSync(path, { recursive: true, force: true });
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * Serial port listing (issue: "List ports with their USB vendor/product ids, serial number and a
 * friendly name"). `SerialPort.list()` on Linux shells out to `udevadm info -e`
 * (@serialport/bindings-cpp dist/linux-list.js) and rejects where udevadm is missing (containers,
 * minimal images, some CI runners). We never fail the listing because of that: we fall back to
 * what the kernel exposes directly:
 *
 * - `/dev/serial/by-id/*` symlinks (named by udev as `usb-<Vendor>_<Model>_<Serial>-if00-port0`);
 * - `/dev/ttyUSB*` (usb-serial bridges: CP210x, CH34x, FTDI) and `/dev/ttyACM*` (CDC-ACM: ST-LINK
 *   VCP, native USB on ESP32-S2/S3/C3);
 * - sysfs attributes `idVendor`, `idProduct`, `serial`, `manufacturer`, `product` of the USB device
 *   above `/sys/class/tty/<name>/device`.
 *
 * The roots are injectable so tests build a small /dev + /sys tree in a temp dir (a real file
 * system, not a mock).
 *
 * Out of file descriptors (EMFILE/ENFILE, issue 7 item 2) is different: serialport's Linux lister
 * then throws before it listens for its child's `error`, and Node's `spawn udevadm EMFILE` event
 * killed the hub. We run that lister with a spawn that always has an `error` listener, and a
 * listing hit by fd exhaustion anywhere is incomplete: `listPortsStrict` throws
 * `PortListUnavailable` instead of returning it (a watcher must not report every port unplugged).
 */
import { spawn } from 'node:child_process';
import { constants as fsConstants, promises as fs } from 'node:fs';
// Plain JS, no native code. Imported up front: a dynamic import() that fails with EMFILE stays
// failed for the life of the process (the ESM loader caches the failure).
import { linuxList } from '@serialport/bindings-cpp/dist/linux-list';
import { basename, dirname, join, resolve } from 'node:path';

export type PortKind = 'usb' | 'pty' | 'other';

export interface PortInfo {
  /** Device path to open, e.g. /dev/ttyUSB0 (links resolved). */
  path: string;
  /** What the dashboard shows, e.g. "CP210x USB to UART (ttyUSB0)". */
  friendlyName: string;
  /** Four lower-case hex digits, e.g. "10c4". */
  vendorId?: string;
  productId?: string;
  serialNumber?: string;
  manufacturer?: string;
  /** USB product string when known, e.g. "CP2102N USB to UART Bridge Controller". */
  product?: string;
  /** The stable /dev/serial/by-id link for this port, when udev made one. */
  byId?: string;
  kind: PortKind;
}

/** The shape `SerialPort.list()` resolves with (@serialport/bindings-interface PortInfo). */
export interface SystemPortInfo {
  path: string;
  manufacturer?: string | undefined;
  serialNumber?: string | undefined;
  pnpId?: string | undefined;
  locationId?: string | undefined;
  productId?: string | undefined;
  vendorId?: string | undefined;
}

export interface ListPortsOptions {
  /** Root of the device tree; default "/dev". */
  devRoot?: string;
  /** Root of sysfs; default "/sys". */
  sysRoot?: string;
  /**
   * Extra paths to include when they exist (simulator ptys, config `extraPorts`), reported with
   * kind 'pty'. Paths that do not exist right now are left out, so a watcher reports them as added
   * when the simulator starts.
   */
  extraPaths?: readonly string[];
  /**
   * System enumeration. Default: `SerialPort.list()` from serialport. `null` skips it and uses only
   * the file-system scan (what tests of the fallback do).
   */
  systemList?: (() => Promise<SystemPortInfo[]>) | null;
  /**
   * Legacy on-board UARTs (`ttyS0`..`ttyS31`) without USB ids are hidden by default: most PCs
   * report all 32 whether or not a UART exists behind them.
   */
  includeBuiltinUarts?: boolean;
  /** Told why the system list was not used (e.g. "udevadm missing"), once per call. */
  onWarning?: (message: string) => void;
}

/** Friendly names for the USB-serial bridges ESP32/STM32 boards actually carry (VID:PID). */
export const KNOWN_USB_SERIAL: Readonly<Record<string, string>> = {
  '10c4:ea60': 'CP210x USB to UART',
  '10c4:ea70': 'CP2105 Dual USB to UART',
  '10c4:ea71': 'CP2108 Quad USB to UART',
  '1a86:7523': 'CH340 USB Serial',
  '1a86:7522': 'CH340K USB Serial',
  '1a86:5523': 'CH341 USB Serial',
  '1a86:55d4': 'CH9102 USB Serial',
  '1a86:55d3': 'CH343 USB Serial',
  '0403:6001': 'FTDI FT232R USB UART',
  '0403:6010': 'FTDI FT2232 Dual USB UART',
  '0403:6011': 'FTDI FT4232 Quad USB UART',
  '0403:6014': 'FTDI FT232H USB UART',
  '0403:6015': 'FTDI FT-X USB UART',
  '067b:2303': 'Prolific PL2303 USB Serial',
  '303a:1001': 'Espressif USB JTAG/serial debug unit',
  '303a:0002': 'Espressif ESP32-S2 native USB',
  '0483:374b': 'ST-LINK/V2-1 Virtual COM Port',
  '0483:374e': 'STLINK-V3 Virtual COM Port',
  '0483:374f': 'STLINK-V3 Virtual COM Port',
  '0483:3752': 'ST-LINK/V2-1 Virtual COM Port',
  '0483:3753': 'STLINK-V3 Virtual COM Port',
  '0483:5740': 'STM32 Virtual COM Port',
  '2341:0043': 'Arduino Uno',
  '2e8a:000a': 'Raspberry Pi Pico USB Serial',
};

const DEVICE_NAME = /^tty(USB|ACM)\d+$/;
const HEX4 = /^[0-9a-f]{4}$/;

/** Normalises "0x10C4", "10C4", "10c4" to "10c4"; anything else to undefined. */
export function normalizeUsbId(value: string | undefined | null): string | undefined {
  if (typeof value !== 'string') return undefined;
  const v = value.trim().toLowerCase().replace(/^0x/, '').padStart(4, '0');
  return HEX4.test(v) ? v : undefined;
}

export interface ByIdParts {
  manufacturer?: string;
  product?: string;
  serialNumber?: string;
  interfaceNumber?: number;
}

// udev's ID_SERIAL is "<vendor>_<model>_<serial>" with spaces turned into "_", and by-id links
// append "-if<NN>" and, for usb-serial drivers, "-port<N>" (udev rules 60-serial.rules).
const BY_ID = /^usb-(.+?)-if([0-9a-fA-F]{2})(?:-port\d+)?$/;
// Vendor strings that contain spaces; without them the first "_" would split the vendor name.
const MULTI_WORD_VENDORS = ['Silicon_Labs', 'Prolific_Technology_Inc.', 'FTDI_Ltd', 'Raspberry_Pi'];

/**
 * Best-effort split of a by-id link name. The name is ambiguous (vendor and model may contain "_"),
 * so sysfs values win whenever they are present; this only fills gaps.
 */
export function parseByIdName(name: string): ByIdParts {
  const m = BY_ID.exec(name);
  if (!m || m[1] === undefined || m[2] === undefined) return {};
  const idSerial = m[1];
  const out: ByIdParts = { interfaceNumber: parseInt(m[2], 16) };
  let vendor: string | undefined;
  let rest = idSerial;
  const multi = MULTI_WORD_VENDORS.find((v) => idSerial.startsWith(`${v}_`));
  if (multi) {
    vendor = multi;
    rest = idSerial.slice(multi.length + 1);
  } else {
    const i = idSerial.indexOf('_');
    if (i > 0) {
      vendor = idSerial.slice(0, i);
      rest = idSerial.slice(i + 1);
    } else {
      rest = idSerial;
    }
  }
  const tokens = rest.split('_').filter((t) => t !== '');
  // The last token is a serial number when it looks like one: it has a digit and the model keeps
  // at least one word. "1a86_USB_Serial" (CH340 without a serial) stays all model.
  const last = tokens[tokens.length - 1];
  if (tokens.length >= 2 && last !== undefined && /\d/.test(last) && last.length >= 4) {
    out.serialNumber = last;
    tokens.pop();
  }
  if (vendor) out.manufacturer = vendor.replace(/_/g, ' ');
  if (tokens.length > 0) out.product = tokens.join(' ');
  return out;
}

/** "CP210x USB to UART (ttyUSB0)". */
export function friendlyNameFor(
  info: Pick<PortInfo, 'path' | 'vendorId' | 'productId' | 'product' | 'manufacturer' | 'kind'>,
): string {
  const dev = basename(info.path);
  const known =
    info.vendorId && info.productId
      ? KNOWN_USB_SERIAL[`${info.vendorId}:${info.productId}`]
      : undefined;
  const label =
    known ??
    info.product ??
    (info.manufacturer ? `${info.manufacturer} serial port` : undefined) ??
    (info.kind === 'pty' ? 'Virtual serial port' : 'Serial port');
  return `${label} (${dev})`;
}

/** The process (or system) is out of file descriptors: a listing made now is incomplete. */
export function isFdExhaustion(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'EMFILE' || code === 'ENFILE';
}

/** Thrown by `listPortsStrict` when the listing could not be made completely. */
export class PortListUnavailable extends Error {
  override readonly name = 'PortListUnavailable';
  constructor(override readonly cause: Error) {
    super(`port listing failed: ${cause.message}`);
  }
}

/** Lets only fd exhaustion through a "skip what we cannot read" catch. */
function rethrowIfExhausted(err: unknown): void {
  if (isFdExhaustion(err)) throw err;
}

/**
 * Lists serial ports. Never throws: a failing system enumeration is reported through
 * `onWarning` and replaced by the file-system scan; unreadable entries are skipped.
 */
export async function listPorts(opts: ListPortsOptions = {}): Promise<PortInfo[]> {
  return (await collectPorts(opts)).ports;
}

/**
 * Like `listPorts`, but throws `PortListUnavailable` when the process ran out of file descriptors
 * during the listing (the list would miss ports that are there).
 */
export async function listPortsStrict(opts: ListPortsOptions = {}): Promise<PortInfo[]> {
  const { ports, exhausted } = await collectPorts(opts);
  if (exhausted) throw new PortListUnavailable(exhausted);
  return ports;
}

async function collectPorts(
  opts: ListPortsOptions,
): Promise<{ ports: PortInfo[]; exhausted: Error | null }> {
  let exhausted: Error | null = null;
  const noteExhaustion = (err: unknown): void => {
    if (isFdExhaustion(err)) exhausted ??= err instanceof Error ? err : new Error(String(err));
  };
  const devRoot = opts.devRoot ?? '/dev';
  const sysRoot = opts.sysRoot ?? '/sys';
  const warn = (msg: string): void => {
    try {
      opts.onWarning?.(msg);
    } catch {
      // A faulty listener must not turn a listing into a failure.
    }
  };

  const byPath = new Map<string, PortInfo>();
  const systemList = opts.systemList === undefined ? defaultSystemList : opts.systemList;
  if (systemList) {
    try {
      const listed = await systemList();
      for (const p of Array.isArray(listed) ? listed : []) {
        const info = fromSystem(p, opts.includeBuiltinUarts === true);
        if (info) byPath.set(info.path, info);
      }
    } catch (err) {
      noteExhaustion(err);
      const text = err instanceof Error ? err.message : String(err);
      warn(`system port listing failed (${text}); scanning ${devRoot} instead`);
    }
  }

  try {
    await scanDevTree(devRoot, sysRoot, byPath);
  } catch (err) {
    noteExhaustion(err);
    warn(`scanning ${devRoot} failed: ${err instanceof Error ? err.message : String(err)}`);
  }

  for (const extra of opts.extraPaths ?? []) {
    try {
      const real = await fs.realpath(extra);
      if (byPath.has(real) || byPath.has(extra)) continue;
      // Extra ports are kept under the name the user configured (a socat link), not its target:
      // the pty behind a link changes on every simulator start.
      byPath.set(extra, { path: extra, kind: 'pty', friendlyName: '' });
    } catch (err) {
      noteExhaustion(err); // else: not there right now
    }
  }

  const out = [...byPath.values()].map((p) => ({
    ...p,
    friendlyName: p.friendlyName || friendlyNameFor(p),
  }));
  out.sort((a, b) => a.path.localeCompare(b.path, 'en', { numeric: true }));
  return { ports: out, exhausted };
}

async function defaultSystemList(): Promise<SystemPortInfo[]> {
  if (process.platform !== 'linux') {
    const { SerialPort } = await import('serialport');
    return SerialPort.list();
  }
  // Containers have no udevadm: spawning it anyway cost the hub a fork of its whole process every
  // port poll (5% of the hub's time in an OTA benchmark, and a stall of the event loop each time).
  // A look along PATH costs a few stat calls and still finds a udevadm installed later.
  if (!(await onPath('udevadm'))) throw new Error('udevadm missing');
  // What SerialPort.list() runs on Linux, with a spawn whose `error` is always listened to: on
  // EMFILE Node emits it on the next tick, after linuxList has already thrown (no stdout pipe)
  // without attaching its own listener, and an unheard `error` event ends the process.
  let spawnError: Error | undefined;
  const guardedSpawn = ((command: string, args: readonly string[]) => {
    const child = spawn(command, args);
    child.on('error', (err) => (spawnError ??= err));
    return child;
  }) as typeof spawn;
  try {
    return await linuxList(guardedSpawn);
  } catch (err) {
    // Give the spawn's own error (e.g. "spawn udevadm EMFILE", with its code) a tick to arrive:
    // it explains the failure better than linuxList's TypeError.
    await new Promise((resolve) => process.nextTick(resolve));
    throw spawnError ?? err;
  }
}

/** True when an executable `name` is in one of the PATH directories. */
async function onPath(name: string): Promise<boolean> {
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    if (dir === '') continue;
    try {
      await fs.access(join(dir, name), fsConstants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

function fromSystem(p: SystemPortInfo, includeBuiltin: boolean): PortInfo | null {
  if (!p || typeof p.path !== 'string' || p.path === '') return null;
  const vendorId = normalizeUsbId(p.vendorId);
  const productId = normalizeUsbId(p.productId);
  const name = basename(p.path);
  if (!includeBuiltin && /^ttyS\d+$/.test(name) && !vendorId) return null;
  const info: PortInfo = {
    path: p.path,
    friendlyName: '',
    kind: vendorId || DEVICE_NAME.test(name) ? 'usb' : 'other',
  };
  if (vendorId) info.vendorId = vendorId;
  if (productId) info.productId = productId;
  if (p.serialNumber) info.serialNumber = p.serialNumber;
  if (p.manufacturer) info.manufacturer = p.manufacturer;
  return info;
}

async function scanDevTree(
  devRootIn: string,
  sysRootIn: string,
  byPath: Map<string, PortInfo>,
): Promise<void> {
  // Resolve the roots once so paths built from them compare equal to resolved link targets.
  const devRoot = await fs.realpath(devRootIn).catch(() => resolve(devRootIn));
  const sysRoot = await fs.realpath(sysRootIn).catch(() => resolve(sysRootIn));
  // 1. by-id links: stable names and, without sysfs, the only source of vendor/serial text.
  const byIdDir = join(devRoot, 'serial', 'by-id');
  for (const name of await readDirSafe(byIdDir)) {
    const link = join(byIdDir, name);
    let target: string;
    try {
      target = await fs.realpath(link);
    } catch (err) {
      rethrowIfExhausted(err);
      continue; // dangling link: the device just went away
    }
    const info = byPath.get(target) ?? newUsbPort(target);
    info.byId ??= link;
    const parts = parseByIdName(name);
    info.manufacturer ??= parts.manufacturer;
    info.product ??= parts.product;
    info.serialNumber ??= parts.serialNumber;
    byPath.set(target, dropUndefined(info));
  }

  // 2. /dev/ttyUSB* and /dev/ttyACM*.
  for (const name of await readDirSafe(devRoot)) {
    if (!DEVICE_NAME.test(name)) continue;
    const path = join(devRoot, name);
    if (!byPath.has(path)) byPath.set(path, newUsbPort(path));
  }

  // 3. sysfs attributes for every tty we know by name.
  for (const info of byPath.values()) {
    const name = basename(info.path);
    if (!/^tty[A-Za-z]+\d+$/.test(name)) continue;
    const attrs = await readUsbAttributes(sysRoot, name);
    if (!attrs) continue;
    info.vendorId ??= attrs.vendorId;
    info.productId ??= attrs.productId;
    info.serialNumber ??= attrs.serialNumber;
    // sysfs strings are exact; the by-id split is a guess, so sysfs replaces it.
    if (attrs.manufacturer) info.manufacturer = attrs.manufacturer;
    if (attrs.product) info.product = attrs.product;
    if (info.vendorId) info.kind = 'usb';
    byPath.set(info.path, dropUndefined(info));
  }
}

function newUsbPort(path: string): PortInfo {
  return {
    path,
    friendlyName: '',
    kind: DEVICE_NAME.test(basename(path)) ? 'usb' : 'other',
  };
}

interface UsbAttributes {
  vendorId?: string;
  productId?: string;
  serialNumber?: string;
  manufacturer?: string;
  product?: string;
}

/**
 * `/sys/class/tty/<name>/device` points at the USB interface (ttyACM) or at the usb-serial port
 * below it (ttyUSB); the USB device with `idVendor` is one or two levels up. Walk up a few levels
 * instead of hard-coding either layout.
 */
async function readUsbAttributes(sysRoot: string, name: string): Promise<UsbAttributes | null> {
  let dir: string;
  try {
    dir = await fs.realpath(join(sysRoot, 'class', 'tty', name, 'device'));
  } catch (err) {
    rethrowIfExhausted(err);
    return null;
  }
  const stop = resolve(sysRoot);
  for (let i = 0; i < 4 && dir.startsWith(stop) && dir !== stop; i++) {
    const vendor = await readAttr(join(dir, 'idVendor'));
    if (vendor !== undefined) {
      const attrs: UsbAttributes = {};
      const vendorId = normalizeUsbId(vendor);
      const productId = normalizeUsbId(await readAttr(join(dir, 'idProduct')));
      const serialNumber = await readAttr(join(dir, 'serial'));
      const manufacturer = await readAttr(join(dir, 'manufacturer'));
      const product = await readAttr(join(dir, 'product'));
      if (vendorId) attrs.vendorId = vendorId;
      if (productId) attrs.productId = productId;
      if (serialNumber) attrs.serialNumber = serialNumber;
      if (manufacturer) attrs.manufacturer = manufacturer;
      if (product) attrs.product = product;
      return attrs;
    }
    dir = dirname(dir);
  }
  return null;
}

async function readAttr(path: string): Promise<string | undefined> {
  try {
    const text = (await fs.readFile(path, 'utf8')).trim();
    // sysfs attributes are one short line; anything else is not an attribute.
    return text !== '' && text.length <= 256 && !text.includes('\n') ? text : undefined;
  } catch (err) {
    rethrowIfExhausted(err);
    return undefined;
  }
}

async function readDirSafe(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (err) {
    rethrowIfExhausted(err);
    return [];
  }
}

function dropUndefined(info: PortInfo): PortInfo {
  for (const k of Object.keys(info) as (keyof PortInfo)[]) {
    if (info[k] === undefined) delete info[k];
  }
  return info;
}

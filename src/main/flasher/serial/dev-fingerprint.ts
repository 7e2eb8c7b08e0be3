/**
 * A cheap summary of the serial device nodes (issue 11: an idle hub spawned `udevadm info -e`
 * and parsed the whole udev database every 2 s, which kept V8's optimizing compiler busy and the
 * hub's memory churning). Plugging or unplugging an adapter creates or removes its node under
 * /dev (with a new inode and change time) and udev's by-id / by-path links once udev has
 * finished with it; the port watcher runs the full listing only when this summary changed.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { isFdExhaustion } from './port-list';

/** The device names the system lister (@serialport/bindings-cpp linux-list) reports. */
const SERIAL_NODE = /^(tty(S|WCH|ACM|USB|AMA|MFD|O|XRUSB)|rfcomm)/;
/** Links udev makes for serial adapters once it has their properties. */
const UDEV_LINK_DIRS = ['serial/by-id', 'serial/by-path'];

/** Inode, device number and change time of a node; '-' when it is not there. */
async function nodeId(path: string): Promise<string> {
  try {
    const s = await fs.stat(path);
    return `${s.ino}/${s.rdev}/${s.ctimeMs}`;
  } catch (err) {
    if (isFdExhaustion(err)) throw err;
    return '-';
  }
}

/**
 * The serial nodes of `devRoot`, udev's serial links and the extra paths, as one string that
 * changes when any of them comes, goes or is re-created. Throws when `devRoot` cannot be read.
 */
export async function devFingerprint(opts: {
  devRoot?: string;
  extraPaths?: readonly string[];
}): Promise<string> {
  const devRoot = opts.devRoot ?? '/dev';
  const parts: string[] = [];
  const names = (await fs.readdir(devRoot)).filter((n) => SERIAL_NODE.test(n)).sort();
  for (const name of names) parts.push(`${name}=${await nodeId(join(devRoot, name))}`);
  for (const dir of UDEV_LINK_DIRS) {
    const links = await fs.readdir(join(devRoot, dir)).catch((err: unknown) => {
      if (isFdExhaustion(err)) throw err;
      return [] as string[]; // no serial adapter plugged in
    });
    parts.push(`${dir}=${links.sort().join(',')}`);
  }
  // A simulator's link points to a new pty on every start: its target's node changes.
  for (const path of opts.extraPaths ?? []) parts.push(`${path}=${await nodeId(path)}`);
  return parts.join('\n');
}

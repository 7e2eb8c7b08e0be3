/**
 * better-sqlite3 is a native module built for plain Node's ABI (tests, the headless CLI). Inside
 * Electron the hub loads a copy built for Electron's ABI by `npm run electron:native`, so both
 * runtimes work from one node_modules.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export function electronNativeBinding(
  versions: NodeJS.ProcessVersions = process.versions,
  root: string = process.cwd(),
): string | undefined {
  const electron = (versions as NodeJS.ProcessVersions & { electron?: string }).electron;
  if (!electron) return undefined;
  const file = join(root, 'build', 'native', `electron-${electron}`, 'better_sqlite3.node');
  return existsSync(file) ? file : undefined;
}

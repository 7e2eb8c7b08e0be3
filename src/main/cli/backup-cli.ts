/**
 * `fleetbench backup <file>` and `fleetbench restore <file>` (issue 12).
 *
 * backup: through the running hub's REST API (`POST /api/v2/backup`) when one runs: `--hub`, or
 * the port in the data dir's `hub.lock`; from the files of a stopped hub's `--data-dir` otherwise.
 * Either way the archive goes to `<file>.part`, is fsynced, and is renamed to `<file>` only when
 * complete; progress on stderr.
 *
 * restore: into a STOPPED hub's data dir (a running one: code 4232; restore through it with the
 * dashboard or `POST /api/v2/restore`). The archive is verified whole before anything is touched;
 * the old dir is kept as `<dir>.before-restore-<time>`.
 *
 * Exit codes: 0 success, 1 refused or failed, 2 usage.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_BACKUP } from '../config';
import { REGISTRY_FILE, fsyncDir, fsyncFile } from '../store/data-dir';
import { BACKUP_TEMP_DIR } from '../backup/backup-format';
import { fileSources, makeBackup } from '../backup/backup-maker';
import { lockUrl, runningHub } from '../backup/hub-lock';
import { restoreDataDir } from '../backup/restore-service';
import { CliError } from './cli-errors';
import { downloadFromHub } from './hub-download';
import { defaultDataDir } from './data-dir-option';
import { addHubOptions, resolveHub, type Hub, type HubCliOptions } from './hub-client';

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Progress on stderr: redrawn on a TTY, one line per 10 MB elsewhere. */
function progressPrinter(): { update(n: number, total: number | null): void; end(): void } {
  const tty = process.stderr.isTTY === true;
  let shown = 0;
  return {
    update(n, total) {
      if (tty) {
        const pct = total ? ` (${Math.floor((n / total) * 100)}%)` : '';
        process.stderr.write(`\r${mb(n)}${total ? ` / ${mb(total)}` : ''}${pct}`);
      } else if (n - shown >= 10 * 1024 * 1024) {
        shown = n;
        process.stderr.write(`${mb(n)}${total ? ` / ${mb(total)}` : ''}\n`);
      }
    },
    end() {
      if (tty) process.stderr.write('\n');
    },
  };
}

/** `POST /api/v2/backup` streamed into `file` (via `<file>.part`); returns the bytes. */
export async function downloadBackup(
  hub: Hub,
  file: string,
  progress: (bytes: number, total: number | null) => void,
): Promise<number> {
  return downloadFromHub(hub, 'POST', '/api/v2/backup', file, progress);
}

/** A backup made from the files of a stopped hub's data dir. */
export async function backupDataDir(
  dataDir: string,
  file: string,
): Promise<{ bytes: number; files: number; devices: number }> {
  if (!existsSync(join(dataDir, REGISTRY_FILE))) {
    throw new CliError(`${dataDir} holds no hub data (no ${REGISTRY_FILE})`);
  }
  const tempRoot = join(dataDir, BACKUP_TEMP_DIR);
  await mkdir(tempRoot, { recursive: true, mode: 0o700 });
  const made = await makeBackup(fileSources(dataDir), tempRoot);
  const tmp = `${file}.part`;
  try {
    await copyFile(made.archive, tmp);
    await fsyncFile(tmp);
    renameSync(tmp, file);
    await fsyncDir(dirname(resolve(file)));
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  } finally {
    await made.cleanup();
  }
  return {
    bytes: made.size,
    files: made.manifest.files.length,
    devices: made.manifest.counts.devices,
  };
}

export function registerBackupCommands(program: Command): void {
  addHubOptions(
    program
      .command('backup <file>')
      .description(
        'write one consistent archive of a hub (running: through its REST API; stopped: from --data-dir)',
      ),
  ).action(async (file: string, o: HubCliOptions) => {
    const target = resolve(file);
    const lock = o.hub === undefined ? runningHub(o.dataDir) : null;
    if (o.hub !== undefined || lock !== null) {
      const hub = resolveHub({
        ...o,
        ...(lock !== null && { hub: lockUrl(lock) }),
      });
      process.stderr.write(`backing up the hub at ${hub.base} (snapshot first, then download)\n`);
      const p = progressPrinter();
      const bytes = await downloadBackup(hub, target, (n, t) => p.update(n, t));
      p.end();
      process.stderr.write(`saved ${target} (${mb(bytes)}); it holds secrets: keep it safe\n`);
      return;
    }
    process.stderr.write(`no hub runs on ${o.dataDir}: backing up its files\n`);
    const r = await backupDataDir(o.dataDir, target);
    process.stderr.write(
      `saved ${target} (${mb(r.bytes)}, ${r.files} files, ${r.devices} devices); it holds secrets: keep it safe\n`,
    );
  });

  program
    .command('restore <file>')
    .description(
      "replace a stopped hub's data dir with a backup (verified first; the old dir is kept)",
    )
    .option('--data-dir <dir>', 'the data dir to replace', defaultDataDir())
    .action(async (file: string, o: { dataDir: string }) => {
      const dataDir = resolve(o.dataDir);
      process.stderr.write(`verifying ${file} ...\n`);
      const r = await restoreDataDir(resolve(file), dataDir, DEFAULT_BACKUP);
      const c = r.manifest.counts;
      process.stdout.write(
        `restored ${c.devices} devices, ${c.customers} customers, ${c.firmware} firmware, ` +
          `${c.apps} apps (backup of ${new Date(r.manifest.created * 1000).toISOString()}) into ${dataDir}\n` +
          (r.previous !== null ? `the previous data dir is kept at ${r.previous}\n` : ''),
      );
    });
}

/**
 * Restore, as the CLI and the REST route share it: verify and unpack beside the data dir, mark it
 * ready, and (when no hub holds the dir) swap it in. See data-dir-swap.ts for the crash story.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { HubError } from '../../shared/errors';
import type { BackupManifest } from '../../shared/lan';
import type { BackupLimits } from '../config';
import { applyPendingRestore, markReady, stagingDirFor } from './data-dir-swap';
import { runningHub } from './hub-lock';
import { extractBackup } from './restore-reader';

/** Verifies `archive` whole and leaves it ready to apply; the data dir is not touched. */
export async function stageRestore(
  archive: string,
  dataDir: string,
  limits: BackupLimits,
): Promise<{ manifest: BackupManifest; ready: string }> {
  mkdirSync(dirname(dataDir), { recursive: true });
  const staging = stagingDirFor(dataDir);
  const manifest = await extractBackup(archive, staging, limits);
  return { manifest, ready: markReady(dataDir, staging) };
}

export function refuseIfRunning(dataDir: string): void {
  const hub = runningHub(dataDir);
  if (hub !== null) {
    throw new HubError(
      'data_dir_in_use',
      `a hub (process ${hub.pid}, port ${hub.port}) is running on ${dataDir}: stop it first, ` +
        `or restore through it (dashboard or POST /api/v2/restore). If no hub runs there, ` +
        `remove ${dataDir}/hub.lock.`,
    );
  }
}

/** `fleetbench restore`: into a stopped hub's data dir. */
export async function restoreDataDir(
  archive: string,
  dataDir: string,
  limits: BackupLimits,
): Promise<{ manifest: BackupManifest; previous: string | null }> {
  refuseIfRunning(dataDir);
  const { manifest } = await stageRestore(archive, dataDir, limits);
  // A hub started meanwhile applies the ready restore itself on its next start: leave it be.
  refuseIfRunning(dataDir);
  const applied = applyPendingRestore(dataDir);
  return { manifest, previous: applied?.previous ?? null };
}

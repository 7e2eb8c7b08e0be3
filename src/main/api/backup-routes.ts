/**
 * Backup and restore over REST (issue 12; master key, route-access.ts):
 *
 * - `POST /api/v2/backup` snapshots the running hub (backup/backup-maker.ts) into a temp dir in
 *   the data dir, then streams the zip with its Content-Length and a
 *   `fleetbench-backup-<date>.zip` file name. The temp dir goes when the download ends, fails or
 *   the client goes away. Devices and REST keep being served meanwhile.
 * - `POST /api/v2/restore` takes an archive (raw body, or a multipart `file` part), streamed to
 *   disk with a cap (`backup.maxRestoreBytes`), verifies it whole and unpacks it beside the data
 *   dir (backup/restore-reader.ts), answers, and then the hub restarts on the restored dir, on the
 *   same ports (`restart`). Without a restart hook the restore is applied on the next start.
 *
 * One backup or restore at a time per hub: a second gets 409 `conflict`.
 */
import { createReadStream, rmSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { HubError } from '../../shared/errors';
import type { RestoreResult } from '../../shared/lan';
import type { BackupLimits } from '../config';
import { ingestToTemp } from '../firmware/content-hash';
import { BACKUP_TEMP_DIR } from '../backup/backup-format';
import { makeBackup, type SnapshotSources } from '../backup/backup-maker';
import { previousDirFor } from '../backup/data-dir-swap';
import { stageRestore } from '../backup/restore-service';
import { receiveUpload } from './streamed-upload';

export interface BackupRouteDeps {
  sources: SnapshotSources;
  limits: BackupLimits;
  /** Restarts the hub on the restored data dir (it applies the pending restore when it starts). */
  restart: (() => Promise<void>) | null;
  log: FastifyBaseLogger;
}

/** `fleetbench-backup-2026-12-05-231500.zip` (UTC). */
export function backupFileName(now: number): string {
  const iso = new Date(now).toISOString();
  return `fleetbench-backup-${iso.slice(0, 10)}-${iso.slice(11, 19).replace(/:/g, '')}.zip`;
}

/** The uploaded archive, streamed to a temp file in `dir` (at most `max` bytes). */
function receiveArchive(req: FastifyRequest, dir: string, max: number): Promise<string> {
  const what = 'the backup archive';
  return receiveUpload(
    req,
    {
      stage: async (file) => (await ingestToTemp(file, dir, max, what)).path,
      discard: (path) => rm(path, { force: true }),
    },
    { what, raw: true, maxBytes: max },
  );
}

export async function registerBackupRoutes(
  app: FastifyInstance,
  deps: BackupRouteDeps,
): Promise<void> {
  const tempRoot = join(deps.sources.dataDir, BACKUP_TEMP_DIR);
  // Whatever a hub that died mid-backup left behind.
  rmSync(tempRoot, { recursive: true, force: true });
  let busy: 'backup' | 'restore' | null = null;
  const take = (what: 'backup' | 'restore'): void => {
    if (busy !== null) {
      throw new HubError('conflict', `a ${busy} is already running on this hub; try again later`);
    }
    busy = what;
  };

  app.post('/api/v2/backup', { config: { auth: 'master' } }, async (req, reply) => {
    take('backup');
    let made;
    try {
      await mkdir(tempRoot, { recursive: true, mode: 0o700 });
      made = await makeBackup(deps.sources, tempRoot);
    } catch (err) {
      busy = null;
      throw err;
    }
    const done = made;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      busy = null;
      done.cleanup().catch((err: unknown) => deps.log.warn({ err }, 'backup temp dir not removed'));
    };
    const stream = createReadStream(done.archive);
    stream.once('close', release);
    // The client went away (or the download finished): stop reading and remove the temp dir.
    reply.raw.once('close', () => {
      stream.destroy();
      release();
    });
    // Gone while the snapshot was taken: nothing to send.
    if (reply.raw.destroyed || req.socket.destroyed) stream.destroy();
    return reply
      .header('content-type', 'application/zip')
      .header('content-length', String(done.size))
      .header('content-disposition', `attachment; filename="${backupFileName(Date.now())}"`)
      .header('cache-control', 'no-store')
      .header('x-fleetbench-backup-files', String(done.manifest.files.length))
      .send(stream);
  });

  await app.register(async (scope) => {
    // Any body that is not multipart is the archive itself, streamed (never parsed as text).
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    await scope.register(multipart, {
      limits: { fileSize: deps.limits.maxRestoreBytes + 1, files: 2, fields: 8, parts: 10 },
    });
    scope.post(
      '/api/v2/restore',
      { config: { auth: 'master', upload: true } },
      async (req, reply): Promise<RestoreResult> => {
        take('restore');
        let uploaded: string | undefined;
        try {
          await mkdir(tempRoot, { recursive: true, mode: 0o700 });
          uploaded = await receiveArchive(req, tempRoot, deps.limits.maxRestoreBytes);
          const { manifest, ready } = await stageRestore(
            uploaded,
            deps.sources.dataDir,
            deps.limits,
          );
          // Where applyPendingRestore will keep the replaced dir.
          const previous = previousDirFor(deps.sources.dataDir, ready);
          const what = `${manifest.files.length} files (${manifest.counts.devices} devices)`;
          const restart = deps.restart;
          if (restart === null) {
            busy = null;
            return {
              applied: false,
              previous: null,
              manifest,
              message: `Verified ${what}: the backup replaces this hub's data at its next start.`,
            };
          }
          // After the answer is out: the restart closes this very server.
          reply.raw.once('finish', () => {
            setImmediate(() => {
              restart().catch((err: unknown) =>
                deps.log.error({ err }, 'restart after restore failed'),
              );
            });
          });
          return {
            applied: true,
            previous,
            manifest,
            message:
              `Verified ${what}. The hub restarts on the restored data now (a few seconds); ` +
              'devices reconnect by themselves. A backup of another hub brings its master key: ' +
              'sign in with that one.',
          };
        } catch (err) {
          busy = null;
          throw err;
        } finally {
          if (uploaded !== undefined) await rm(uploaded, { force: true });
        }
      },
    );
  });
}

/**
 * Backup and restore in the dashboard's settings (issue 12): one job at a time, a union of typed
 * states with progress (DESIGN.md example 3), and what the hub answered. The download's bytes are
 * handed to `save` (the section turns them into a file); the restore asks for confirmation first
 * (it replaces everything on the hub).
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { RestoreResult } from '../../shared/lan';
import { toApiError } from '../api/api-error';
import type { BackupApi, DownloadedBackup, Progress } from '../api/backup-api';

export type BackupJob =
  | { kind: 'idle' }
  | { kind: 'downloading'; progress: Progress }
  | { kind: 'downloaded'; fileName: string; bytes: number }
  | { kind: 'confirming'; file: File }
  | { kind: 'uploading'; fileName: string; progress: Progress }
  | { kind: 'restored'; result: RestoreResult }
  | { kind: 'failed'; what: 'backup' | 'restore'; code: number; message: string };

export interface BackupState {
  job: BackupJob;
  download(): Promise<void>;
  /** A file was picked: ask before replacing everything. */
  pick(file: File): void;
  cancel(): void;
  /** Confirmed: upload the picked file and restore it. */
  restore(): Promise<void>;
}

export type BackupStore = StoreApi<BackupState>;

export interface BackupDeps {
  api(): BackupApi | null;
  save(backup: DownloadedBackup): void;
  onUnauthorized(): void;
}

const busy = (job: BackupJob): boolean => job.kind === 'downloading' || job.kind === 'uploading';

export function createBackupStore(deps: BackupDeps): BackupStore {
  return createStore<BackupState>((set, get) => {
    const fail = (what: 'backup' | 'restore', e: unknown): void => {
      const err = toApiError(e);
      if (err.status === 401) deps.onUnauthorized();
      set({ job: { kind: 'failed', what, code: err.code, message: err.message } });
    };
    return {
      job: { kind: 'idle' },
      async download() {
        const api = deps.api();
        if (!api || busy(get().job)) return;
        set({ job: { kind: 'downloading', progress: { done: 0, total: null } } });
        try {
          const got = await api.download((progress) =>
            set({ job: { kind: 'downloading', progress } }),
          );
          deps.save(got);
          set({ job: { kind: 'downloaded', fileName: got.fileName, bytes: got.blob.size } });
        } catch (e) {
          fail('backup', e);
        }
      },
      pick(file) {
        if (busy(get().job)) return;
        set({ job: { kind: 'confirming', file } });
      },
      cancel() {
        if (get().job.kind === 'confirming') set({ job: { kind: 'idle' } });
      },
      async restore() {
        const job = get().job;
        const api = deps.api();
        if (job.kind !== 'confirming' || !api) return;
        const fileName = job.file.name;
        const start = { done: 0, total: job.file.size };
        set({ job: { kind: 'uploading', fileName, progress: start } });
        try {
          const result = await api.restore(job.file, (progress) =>
            set({ job: { kind: 'uploading', fileName, progress } }),
          );
          set({ job: { kind: 'restored', result } });
        } catch (e) {
          fail('restore', e);
        }
      },
    };
  });
}

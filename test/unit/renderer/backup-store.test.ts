/**
 * The dashboard's backup and restore (src/renderer/api/backup-api.ts, stores/backup-store.ts):
 * the download reports bytes received of the Content-Length and saves the file under the hub's
 * name; a refusal keeps its catalog code; a restore needs a confirmation and reports upload
 * progress, then the hub's answer.
 */
import { describe, expect, it } from 'vitest';
import { createBackupApi, fileNameOf, type BackupApi } from '../../../src/renderer/api/backup-api';
import { createBackupStore } from '../../../src/renderer/stores/backup-store';
import type { RestoreResult } from '../../../src/shared/lan';

function streamed(chunks: Uint8Array[], headers: Record<string, string>): Response {
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const ch of chunks) c.enqueue(ch);
      c.close();
    },
  });
  return new Response(body, { status: 200, headers });
}

const RESULT: RestoreResult = {
  applied: true,
  previous: '/d.before-restore-x',
  manifest: {
    format: 'fleetbench-backup',
    version: 1,
    created: 1,
    app_version: '1',
    files: [],
    counts: { devices: 3, customers: 0, firmware: 0, apps: 0 },
  },
  message: 'restarting',
};

describe('backup api and store', () => {
  it('downloads with progress up to the Content-Length and the hub file name', async () => {
    const api = createBackupApi({
      baseUrl: 'http://hub',
      key: 'k',
      fetch: async (url, init) => {
        expect(url).toBe('http://hub/api/v2/backup');
        expect(init?.method).toBe('POST');
        return streamed([new Uint8Array(3), new Uint8Array(5)], {
          'content-length': '8',
          'content-disposition': 'attachment; filename="fleetbench-backup-2026-12-05-231500.zip"',
        });
      },
    });
    const seen: string[] = [];
    const got = await api.download((p) => seen.push(`${p.done}/${p.total}`));
    expect(seen).toEqual(['0/8', '3/8', '8/8']);
    expect(got.fileName).toBe('fleetbench-backup-2026-12-05-231500.zip');
    expect(got.blob.size).toBe(8);
  });

  it('a cut download is an error, not a short file', async () => {
    const api = createBackupApi({
      baseUrl: 'http://hub',
      key: 'k',
      fetch: async () => streamed([new Uint8Array(3)], { 'content-length': '8' }),
    });
    await expect(api.download(() => {})).rejects.toThrow(/stopped after 3 of 8/);
  });

  it('keeps the catalog code of a refusal (409: a backup already running)', async () => {
    const api = createBackupApi({
      baseUrl: 'http://hub',
      key: 'k',
      fetch: async () =>
        new Response(
          JSON.stringify({ error: { code: 409, message: 'a backup is already running' } }),
          {
            status: 409,
          },
        ),
    });
    const store = createBackupStore({ api: () => api, save: () => {}, onUnauthorized: () => {} });
    await store.getState().download();
    expect(store.getState().job).toEqual({
      kind: 'failed',
      what: 'backup',
      code: 409,
      message: 'a backup is already running',
    });
  });

  it('restores only after the confirmation, with upload progress', async () => {
    const calls: string[] = [];
    const api: BackupApi = {
      download: () => Promise.reject(new Error('unused')),
      restore: async (file, onProgress) => {
        calls.push(`restore ${file.size}`);
        onProgress({ done: 2, total: 4 });
        return RESULT;
      },
    };
    const saved: string[] = [];
    const store = createBackupStore({
      api: () => api,
      save: (b) => saved.push(b.fileName),
      onUnauthorized: () => {},
    });
    const file = new File([new Uint8Array(4)], 'b.zip');
    store.getState().pick(file);
    expect(store.getState().job.kind).toBe('confirming');
    expect(calls).toEqual([]);
    store.getState().cancel();
    expect(store.getState().job.kind).toBe('idle');
    store.getState().pick(file);
    const progress: string[] = [];
    const unsub = store.subscribe((s) => {
      if (s.job.kind === 'uploading')
        progress.push(`${s.job.progress.done}/${s.job.progress.total}`);
    });
    await store.getState().restore();
    unsub();
    expect(calls).toEqual(['restore 4']);
    expect(progress).toEqual(['0/4', '2/4']);
    expect(store.getState().job).toEqual({ kind: 'restored', result: RESULT });
  });

  it('reads the file name of a Content-Disposition', () => {
    expect(fileNameOf('attachment; filename="a.zip"')).toBe('a.zip');
    expect(fileNameOf(null)).toBe('fleetbench-backup.zip');
  });
});

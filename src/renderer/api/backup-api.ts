/**
 * Backup and restore from the dashboard (issue 12): `POST /api/v2/backup` read as a stream so the
 * page can show bytes received of the Content-Length, and `POST /api/v2/restore` sent with
 * XMLHttpRequest, the one browser API that reports upload progress. Like the other api/ modules
 * it is the only place the section does I/O; refusals are ApiErrors with the catalog code.
 */
import Type from 'typebox';
import { Value } from 'typebox/value';
import type { RestoreResult } from '../../shared/lan';
import { ApiError } from './api-error';
import type { FetchLike } from './http-client';
import { answerError, noAnswerError, parseAnswerBody } from './hub-answer';

export interface Progress {
  done: number;
  /** null when the hub sent no length. */
  total: number | null;
}

export interface DownloadedBackup {
  blob: Blob;
  fileName: string;
}

export interface BackupApi {
  download(onProgress: (p: Progress) => void): Promise<DownloadedBackup>;
  restore(file: Blob, onProgress: (p: Progress) => void): Promise<RestoreResult>;
}

export interface BackupApiOptions {
  baseUrl: string;
  key: string;
  fetch?: FetchLike;
  /** Builds the upload request (tests and non-browser hosts may give their own). */
  xhr?: () => XMLHttpRequest;
}

const ManifestShape = Type.Object({
  format: Type.Literal('fleetbench-backup'),
  version: Type.Number(),
  created: Type.Number(),
  app_version: Type.String(),
  files: Type.Array(Type.Object({ path: Type.String(), size: Type.Number() })),
  counts: Type.Object({
    devices: Type.Number(),
    customers: Type.Number(),
    firmware: Type.Number(),
    apps: Type.Number(),
  }),
});

const RestoreShape = Type.Object({
  applied: Type.Boolean(),
  previous: Type.Union([Type.String(), Type.Null()]),
  manifest: ManifestShape,
  message: Type.String(),
});

/** `attachment; filename="x.zip"` -> `x.zip`. */
export function fileNameOf(disposition: string | null): string {
  const m = /filename="([^"]+)"/.exec(disposition ?? '');
  return m?.[1] ?? 'fleetbench-backup.zip';
}

export function createBackupApi(o: BackupApiOptions): BackupApi {
  const base = o.baseUrl.replace(/\/+$/, '');
  const doFetch: FetchLike = o.fetch ?? ((input, init) => fetch(input, init));

  return {
    async download(onProgress) {
      let res: Response;
      try {
        res = await doFetch(`${base}/api/v2/backup`, {
          method: 'POST',
          headers: { authorization: `Bearer ${o.key}` },
        });
      } catch (e) {
        throw noAnswerError(e, false, 'backup');
      }
      if (!res.ok || res.body === null) {
        const text = await res.text();
        throw answerError(res.status, parseAnswerBody(text), res.statusText);
      }
      const length = Number(res.headers.get('content-length'));
      const total = Number.isFinite(length) && length > 0 ? length : null;
      const reader = res.body.getReader();
      const chunks: Uint8Array<ArrayBuffer>[] = [];
      let done = 0;
      onProgress({ done, total });
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        chunks.push(r.value as Uint8Array<ArrayBuffer>);
        done += r.value.length;
        onProgress({ done, total });
      }
      if (total !== null && done !== total) {
        throw new ApiError(0, 0, `the download stopped after ${done} of ${total} bytes`);
      }
      return {
        blob: new Blob(chunks, { type: 'application/zip' }),
        fileName: fileNameOf(res.headers.get('content-disposition')),
      };
    },

    restore(file, onProgress) {
      return new Promise<RestoreResult>((resolve, reject) => {
        const xhr = o.xhr?.() ?? new XMLHttpRequest();
        xhr.open('POST', `${base}/api/v2/restore`);
        xhr.setRequestHeader('authorization', `Bearer ${o.key}`);
        xhr.setRequestHeader('content-type', 'application/zip');
        xhr.upload.onprogress = (e) =>
          onProgress({ done: e.loaded, total: e.lengthComputable ? e.total : file.size });
        xhr.onerror = () => reject(new ApiError(0, 0, 'the hub could not be reached'));
        xhr.onload = () => {
          const parsed = parseAnswerBody(xhr.responseText);
          if (xhr.status < 200 || xhr.status >= 300) {
            reject(answerError(xhr.status, parsed, xhr.statusText));
          } else if (!Value.Check(RestoreShape, parsed)) {
            reject(new ApiError(0, xhr.status, 'the hub sent an unexpected restore answer'));
          } else {
            resolve(parsed as RestoreResult);
          }
        };
        xhr.send(file);
      });
    },
  };
}

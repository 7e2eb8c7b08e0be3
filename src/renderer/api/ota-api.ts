/**
 * The dashboard's client for the firmware library, OTA jobs and rollouts (PROTOCOL.md 9). Like
 * http-client.ts it is the only place these pages do I/O; every answer is checked against the
 * schemas in api/schemas.ts before a store sees it, and every failure is an ApiError with the
 * hub's catalog code (so a 409 can be shown where the action was taken, with its own remedy).
 *
 * Uploads go through `UploadTransport` (XMLHttpRequest in the browser): `fetch` has no upload
 * progress, and a 16 MB image over a slow Wi-Fi link needs a moving bar.
 */
import type { Json, JsonObject } from '../../shared/types';
import { ApiError } from './api-error';
import type { FetchLike } from './http-client';
import { answerError, noAnswerError, parseAnswerBody } from './hub-answer';
import {
  readBootState,
  readFirmware,
  readAbortReply,
  readOtaJob,
  readRollout,
  readRolloutPreview,
  type BootStateView,
  type FirmwareView,
  type OtaJobView,
  type RolloutPreviewView,
  type RolloutView,
} from './schemas';

export interface UploadProgress {
  loaded: number;
  total: number;
}

export interface UploadRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: FormData;
  onProgress?(p: UploadProgress): void;
  signal?: AbortSignal;
}

/** Sends a multipart body and resolves with the status and text of the answer. */
export type UploadTransport = (req: UploadRequest) => Promise<{ status: number; text: string }>;

/** The browser's XMLHttpRequest: the one API with upload progress events. */
export const xhrUpload: UploadTransport = (req) =>
  new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(req.method, req.url);
    for (const [k, v] of Object.entries(req.headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) req.onProgress?.({ loaded: e.loaded, total: e.total });
    };
    xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText });
    xhr.onerror = () => reject(new Error('network error'));
    xhr.onabort = () => reject(new Error('aborted'));
    xhr.ontimeout = () => reject(new Error('timed out'));
    req.signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(req.body);
  });

/** What a firmware upload answered: 201 a new one, 200 the same bytes were already in the library. */
export interface UploadResult {
  firmware: FirmwareView;
  existed: boolean;
}

export type OtaSource = { file: Blob; name: string } | { firmware: string };

export interface RolloutBody {
  firmware: string;
  devices?: string[];
  labels?: string;
  waves: (number | string)[];
  max_failures: number | string;
  health_s: number;
  concurrency: number;
  skip_current: boolean;
  offline: 'wait' | 'skip';
}

export interface OtaApi {
  listFirmware(): Promise<FirmwareView[]>;
  uploadFirmware(
    input: { file: Blob; name: string; elf?: { file: Blob; name: string }; notes?: string },
    onProgress?: (p: UploadProgress) => void,
  ): Promise<UploadResult>;
  attachElf(id: string, elf: { file: Blob; name: string }): Promise<FirmwareView>;
  deleteFirmware(id: string): Promise<void>;
  /** The image's bytes and the name to save them under. */
  downloadFirmware(id: string): Promise<{ blob: Blob; name: string }>;
  /** Starts an OTA with `?wait=0`: the job comes back at once (202), progress arrives as notifications. */
  startOta(
    device: string,
    source: OtaSource,
    opts?: { force?: boolean },
    onProgress?: (p: UploadProgress) => void,
  ): Promise<OtaJobView>;
  listJobs(device?: string): Promise<OtaJobView[]>;
  getJob(id: string): Promise<OtaJobView>;
  cancelJob(id: string): Promise<void>;
  commit(device: string): Promise<void>;
  revert(device: string): Promise<void>;
  /** Mongoose OS `OTA.GetBootState` through the RPC route; null when the firmware has no such method. */
  bootState(device: string): Promise<BootStateView | null>;
  listRollouts(): Promise<RolloutView[]>;
  getRollout(id: string): Promise<RolloutView>;
  createRollout(body: RolloutBody): Promise<RolloutView>;
  /** null when the hub has no preview route (the page then computes it itself). */
  previewRollout(body: RolloutBody): Promise<RolloutPreviewView | null>;
  rolloutAction(
    id: string,
    action: 'pause' | 'resume' | 'abort' | 'retry',
    body?: JsonObject,
  ): Promise<RolloutActionResult>;
}

export interface RolloutActionResult {
  rollout: RolloutView;
  /** Abort with `rollback`: the rollout sending the previous firmware back, or why there is none. */
  rollback?: RolloutView;
  rollbackError?: { code: string; message: string };
}

export interface OtaApiOptions {
  baseUrl: string;
  key: string;
  fetch?: FetchLike;
  upload?: UploadTransport;
  timeoutMs?: number;
}

/** Uploads and OTA starts can carry a 16 MB image over Wi-Fi. */
export const OTA_UPLOAD_TIMEOUT_MS = 300_000;
const RPC_TIMEOUT_MS = 40_000;

function bad(what: string): ApiError {
  return new ApiError(0, 200, `the hub sent an unexpected ${what}`);
}

function listOf<T>(value: unknown, read: (v: unknown) => T | null, what: string): T[] {
  if (!Array.isArray(value)) throw bad(what);
  const out: T[] = [];
  for (const item of value) {
    const v = read(item);
    if (v) out.push(v);
  }
  return out;
}

function one<T>(value: unknown, read: (v: unknown) => T | null, what: string): T {
  const v = read(value);
  if (!v) throw bad(what);
  return v;
}

/** `attachment; filename="a.bin"; filename*=UTF-8''a.bin` -> `a.bin`. */
export function fileNameFrom(disposition: string | null, fallback: string): string {
  if (!disposition) return fallback;
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  if (star?.[1]) {
    try {
      return decodeURIComponent(star[1]);
    } catch {
      // fall through to the plain name
    }
  }
  const plain = /filename="([^"]+)"/i.exec(disposition);
  return plain?.[1] ?? fallback;
}

export function createOtaApi(o: OtaApiOptions): OtaApi {
  const base = o.baseUrl.replace(/\/+$/, '');
  const doFetch: FetchLike = o.fetch ?? ((input, init) => fetch(input, init));
  const upload = o.upload ?? xhrUpload;
  const auth = { Authorization: `Bearer ${o.key}` };

  async function raw(
    method: string,
    path: string,
    body?: Json,
    timeout = o.timeoutMs ?? 15_000,
  ): Promise<Response> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeout);
    try {
      return await doFetch(`${base}/api/v2${path}`, {
        method,
        headers: {
          ...auth,
          Accept: 'application/json',
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: controller.signal,
      });
    } catch (e) {
      throw noAnswerError(e, controller.signal.aborted, 'the hub did not answer in time');
    } finally {
      clearTimeout(timer);
    }
  }

  async function request(
    method: string,
    path: string,
    body?: Json,
    timeout?: number,
  ): Promise<{ status: number; value: unknown }> {
    const res = await raw(method, path, body, timeout);
    let text: string;
    try {
      text = await res.text();
    } catch {
      throw new ApiError(0, res.status, 'the connection to the hub broke during the answer');
    }
    const parsed = parseAnswerBody(text);
    if (!res.ok) throw answerError(res.status, parsed, res.statusText);
    return { status: res.status, value: parsed };
  }

  async function multipart(
    path: string,
    form: FormData,
    onProgress?: (p: UploadProgress) => void,
  ): Promise<{ status: number; value: unknown }> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), OTA_UPLOAD_TIMEOUT_MS);
    let answer: { status: number; text: string };
    try {
      answer = await upload({
        url: `${base}/api/v2${path}`,
        method: 'POST',
        headers: { ...auth, Accept: 'application/json' },
        body: form,
        signal: controller.signal,
        ...(onProgress ? { onProgress } : {}),
      });
    } catch (e) {
      throw noAnswerError(e, controller.signal.aborted, 'the upload did not finish in time');
    } finally {
      clearTimeout(timer);
    }
    const parsed = parseAnswerBody(answer.text);
    if (answer.status < 200 || answer.status >= 300) throw answerError(answer.status, parsed);
    return { status: answer.status, value: parsed };
  }

  const enc = encodeURIComponent;

  return {
    async listFirmware() {
      return listOf((await request('GET', '/firmware')).value, readFirmware, 'firmware list');
    },
    async uploadFirmware(input, onProgress) {
      const form = new FormData();
      // Text fields first: the hub reads parts in order while streaming the files to disk.
      if (input.notes !== undefined && input.notes !== '') form.append('notes', input.notes);
      form.append('file', input.file, input.name);
      if (input.elf) form.append('elf', input.elf.file, input.elf.name);
      const r = await multipart('/firmware', form, onProgress);
      return { firmware: one(r.value, readFirmware, 'firmware'), existed: r.status === 200 };
    },
    async attachElf(id, elf) {
      const form = new FormData();
      form.append('elf', elf.file, elf.name);
      const r = await multipart(`/firmware/${enc(id)}/elf`, form);
      return one(r.value, readFirmware, 'firmware');
    },
    async deleteFirmware(id) {
      await request('DELETE', `/firmware/${enc(id)}`);
    },
    async downloadFirmware(id) {
      const res = await raw('GET', `/firmware/${enc(id)}/file`, undefined, OTA_UPLOAD_TIMEOUT_MS);
      if (!res.ok) throw answerError(res.status, parseAnswerBody(await res.text()), res.statusText);
      const blob = await res.blob();
      return { blob, name: fileNameFrom(res.headers.get('content-disposition'), `${id}.bin`) };
    },
    async startOta(device, source, opts = {}, onProgress) {
      const query = `?wait=0${opts.force ? '&force=1' : ''}`;
      const path = `/devices/${enc(device)}/ota${query}`;
      if ('firmware' in source) {
        const r = await request('POST', path, { firmware: source.firmware });
        return one(r.value, readOtaJob, 'OTA job');
      }
      const form = new FormData();
      form.append('file', source.file, source.name);
      const r = await multipart(path, form, onProgress);
      return one(r.value, readOtaJob, 'OTA job');
    },
    async listJobs(device) {
      const q = device !== undefined ? `?device=${enc(device)}` : '';
      return listOf((await request('GET', `/ota${q}`)).value, readOtaJob, 'job list');
    },
    async getJob(id) {
      return one((await request('GET', `/ota/${enc(id)}`)).value, readOtaJob, 'OTA job');
    },
    async cancelJob(id) {
      await request('DELETE', `/ota/${enc(id)}`);
    },
    async commit(device) {
      await request('POST', `/devices/${enc(device)}/ota/commit`, {}, RPC_TIMEOUT_MS);
    },
    async revert(device) {
      await request('POST', `/devices/${enc(device)}/ota/revert`, {}, RPC_TIMEOUT_MS);
    },
    async bootState(device) {
      try {
        const r = await request(
          'POST',
          `/devices/${enc(device)}/rpc/OTA.GetBootState`,
          {},
          RPC_TIMEOUT_MS,
        );
        return readBootState(r.value);
      } catch (e) {
        // The Arduino/ESP-IDF library has no commit step (PROTOCOL.md 6): -32601 / 404 = committed.
        // The hub relays it as 502 "device error -32601: method not found".
        if (e instanceof ApiError && e.status === 502 && /-32601|method not found/i.test(e.message))
          return null;
        throw e;
      }
    },
    async listRollouts() {
      return listOf((await request('GET', '/rollouts')).value, readRollout, 'rollout list');
    },
    async getRollout(id) {
      return one((await request('GET', `/rollouts/${enc(id)}`)).value, readRollout, 'rollout');
    },
    async createRollout(body) {
      const r = await request('POST', '/rollouts', body as unknown as Json);
      return one(r.value, readRollout, 'rollout');
    },
    async previewRollout(body) {
      try {
        const r = await request('POST', '/rollouts/preview', body as unknown as Json);
        return one(r.value, readRolloutPreview, 'rollout preview');
      } catch (e) {
        // No such route on this hub (plain 404 / 405, not e.g. firmware_not_found 4045): the
        // caller computes the preview itself.
        if (e instanceof ApiError && (e.code === 404 || e.status === 405)) return null;
        throw e;
      }
    },
    async rolloutAction(id, action, body) {
      const r = await request('POST', `/rollouts/${enc(id)}/${action}`, body ?? {});
      const rollout = one(r.value, readRollout, 'rollout');
      const extra = readAbortReply(r.value);
      return {
        rollout,
        ...(extra?.rollback ? { rollback: extra.rollback } : {}),
        ...(extra?.rollback_error ? { rollbackError: extra.rollback_error } : {}),
      };
    },
  };
}

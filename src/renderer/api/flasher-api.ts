/**
 * The dashboard's client for the local flasher API (`/api/v2/local/*`, master key) and its
 * `flash.*` notifications (PROTOCOL.md 7). Like http-client.ts it is the only place the flasher
 * page does I/O; every response is checked against a schema before it reaches the store.
 */
import Type from 'typebox';
import { Compile } from 'typebox/compile';
import type { FlashState } from '../../shared/flash-state';
import type { Notification } from '../../shared/types';
import { ApiError } from './api-error';
import type { FetchLike } from './http-client';
import { openNotifyStream, type NotifyStatus, type SocketFactory } from './notify-stream';
import { readErrorBody } from './schemas';

const OwnerSchema = Type.Union([
  Type.Null(),
  Type.Object({ kind: Type.String(), id: Type.String() }),
]);

const PortViewSchema = Type.Object({
  path: Type.String(),
  friendlyName: Type.String(),
  kind: Type.String(),
  vendorId: Type.Optional(Type.String()),
  productId: Type.Optional(Type.String()),
  serialNumber: Type.Optional(Type.String()),
  owner: OwnerSchema,
});
export type PortView = Type.Static<typeof PortViewSchema>;

const StateSchema = Type.Object({ state: Type.String() });

const JobViewSchema = Type.Object({
  id: Type.String(),
  port: Type.String(),
  kind: Type.String(),
  state: StateSchema,
  created: Type.Number(),
  started: Type.Optional(Type.Number()),
  finished: Type.Optional(Type.Number()),
  files: Type.Array(
    Type.Object({
      name: Type.String(),
      size: Type.Number(),
      address: Type.Optional(Type.Number()),
    }),
  ),
  result: Type.Optional(
    Type.Object({
      deviceId: Type.Optional(Type.String()),
      warnings: Type.Optional(Type.Array(Type.String())),
    }),
  ),
});
/** A job as the page shows it; `state` is one of the FlashState shapes (checked loosely). */
export type JobView = Omit<Type.Static<typeof JobViewSchema>, 'state'> & { state: FlashState };

const PortList = Compile(Type.Array(PortViewSchema));
const JobList = Compile(Type.Array(JobViewSchema));
const JobOne = Compile(JobViewSchema);
const Submitted = Compile(Type.Object({ job: Type.String() }));

export interface FlashFileInput {
  /** What the browser's file input gave us. */
  file: Blob;
  name: string;
  address?: number;
}

export interface FlashOptionsInput {
  port: string;
  chip?: string;
  baud?: number;
  eraseAll?: boolean;
  verify?: boolean;
}

export interface FlasherApi {
  listPorts(): Promise<PortView[]>;
  listJobs(): Promise<JobView[]>;
  getJob(id: string): Promise<JobView>;
  flash(files: FlashFileInput[], options: FlashOptionsInput): Promise<string>;
  cancel(id: string): Promise<void>;
  /** Subscribes to `flash.*` notifications; returns the unsubscribe. */
  events(
    onBatch: (batch: Notification[]) => void,
    onStatus?: (s: NotifyStatus) => void,
  ): () => void;
}

export interface FlasherApiOptions {
  baseUrl: string;
  /** The notify stream URL (it carries the key as `access_token`, which the REST calls reuse). */
  notifyUrl: string;
  createSocket: SocketFactory;
  fetch?: FetchLike;
  timeoutMs?: number;
}

/** Uploads can be large: the hub's default limit is 64 MB. */
export const UPLOAD_TIMEOUT_MS = 120_000;

export function createFlasherApi(o: FlasherApiOptions): FlasherApi {
  const base = o.baseUrl.replace(/\/+$/, '');
  const key = new URL(o.notifyUrl).searchParams.get('access_token') ?? '';
  const doFetch: FetchLike = o.fetch ?? ((input, init) => fetch(input, init));

  async function request(
    method: string,
    path: string,
    body?: FormData,
    timeout = o.timeoutMs ?? 15_000,
  ): Promise<unknown> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeout);
    let res: Response;
    let text: string;
    try {
      res = await doFetch(`${base}/api/v2/local${path}`, {
        method,
        headers: { Authorization: `Bearer ${key}`, Accept: 'application/json' },
        ...(body ? { body } : {}),
        signal: controller.signal,
      });
      text = await res.text();
    } catch (e) {
      if (controller.signal.aborted) throw new ApiError(0, 0, 'the hub did not answer in time');
      throw new ApiError(
        0,
        0,
        `cannot reach the hub (${e instanceof Error ? e.message : 'network error'})`,
      );
    } finally {
      clearTimeout(timer);
    }
    let parsed: unknown = undefined;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    if (!res.ok) {
      const err = readErrorBody(parsed);
      throw err
        ? new ApiError(err.code, res.status, err.message)
        : new ApiError(res.status, res.status, `HTTP ${res.status}`);
    }
    return parsed;
  }

  const bad = (what: string): ApiError =>
    new ApiError(0, 200, `the hub sent an unexpected ${what}`);

  return {
    async listPorts() {
      const v = await request('GET', '/ports');
      if (!PortList.Check(v)) throw bad('port list');
      return v;
    },
    async listJobs() {
      const v = await request('GET', '/jobs');
      if (!JobList.Check(v)) throw bad('job list');
      return v as JobView[];
    },
    async getJob(id) {
      const v = await request('GET', `/jobs/${encodeURIComponent(id)}`);
      if (!JobOne.Check(v)) throw bad('job');
      return v as JobView;
    },
    async flash(files, options) {
      const form = new FormData();
      form.append('options', JSON.stringify(options));
      for (const f of files) {
        form.append(
          'file',
          f.file,
          f.address !== undefined ? `${f.name}@0x${f.address.toString(16)}` : f.name,
        );
      }
      const v = await request('POST', '/flash', form, UPLOAD_TIMEOUT_MS);
      if (!Submitted.Check(v)) throw bad('answer to the flash request');
      return v.job;
    },
    async cancel(id) {
      await request('DELETE', `/jobs/${encodeURIComponent(id)}`);
    },
    events(onBatch, onStatus) {
      const stream = openNotifyStream({
        url: o.notifyUrl,
        createSocket: o.createSocket,
        onBatch: (batch) => {
          const mine = batch.filter((n) => n.name.startsWith('flash.'));
          if (mine.length > 0) onBatch(mine);
        },
        onStatus: onStatus ?? (() => {}),
      });
      return () => stream.close();
    },
  };
}

/**
 * The dashboard's client for the local flasher API (`/api/v2/local/*`, master key), its
 * `flash.*` notifications (PROTOCOL.md 7) and the serial monitor socket. Like http-client.ts it is
 * the only place the flasher page does I/O; every response and monitor frame is checked against a
 * schema before it reaches a store (`typebox/value`: no `eval`, so Electron's CSP is fine).
 */
import Type from 'typebox';
import { Value } from 'typebox/value';
import type { FlashState } from '../../shared/flash-state';
import type { Notification } from '../../shared/types';
import { ApiError } from './api-error';
import { hubSocketUrl, type FetchLike } from './http-client';
import { answerError, noAnswerError, parseAnswerBody } from './hub-answer';
import { openNotifyStream, type NotifyStatus, type SocketFactory } from './notify-stream';

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

const PortList = Type.Array(PortViewSchema);
const JobList = Type.Array(JobViewSchema);
const Submitted = Type.Object({ job: Type.String() });

/**
 * Server frames of the monitor socket (README "REST API": `line`, `data`, `panic`, `warning`,
 * `close`, `ok`, `error`; src/main/flasher/monitor/monitor-commands.ts). Only what the page shows
 * is required; a panic is kept loosely (its reason, decoded PC and raw lines).
 */
const MonitorFrameSchema = Type.Union([
  Type.Object({ type: Type.Literal('line'), line: Type.String() }),
  Type.Object({ type: Type.Literal('data'), base64: Type.String() }),
  Type.Object({ type: Type.Literal('scrollback'), base64: Type.String() }),
  Type.Object({
    type: Type.Literal('panic'),
    panic: Type.Object({
      reason: Type.String(),
      core: Type.Optional(Type.Number()),
      pc: Type.Optional(Type.Number()),
      fn: Type.Optional(Type.String()),
      offset: Type.Optional(Type.Number()),
      lines: Type.Array(Type.String()),
    }),
  }),
  Type.Object({ type: Type.Literal('warning'), message: Type.String() }),
  Type.Object({ type: Type.Literal('close'), reason: Type.String(), message: Type.String() }),
  Type.Object({ type: Type.Literal('ok'), request: Type.String() }),
  Type.Object({ type: Type.Literal('error'), code: Type.Number(), message: Type.String() }),
]);
export type MonitorFrame = Type.Static<typeof MonitorFrameSchema>;

export interface MonitorHandlers {
  onOpen(): void;
  onFrame(frame: MonitorFrame): void;
  /**
   * The socket closed. `opened` false means the hub refused the upgrade: a browser is not shown
   * the refusal's body, so the caller explains the likely causes itself.
   */
  onClose(info: { opened: boolean; code: number; reason: string }): void;
}

export interface MonitorConnection {
  write(text: string): void;
  reset(): void;
  close(): void;
}

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
  /**
   * Subscribes to `flash.*` notifications; returns the unsubscribe. `onOpen` runs on every
   * (re)open: notifications sent while the socket was down are lost, so the caller reloads.
   */
  events(
    onBatch: (batch: Notification[]) => void,
    onStatus?: (s: NotifyStatus) => void,
    onOpen?: () => void,
  ): () => void;
  /** Opens the serial monitor on a port (`WS /api/v2/local/monitor`, text lines). */
  monitor(port: string, baud: number, handlers: MonitorHandlers): MonitorConnection;
}

export interface FlasherApiOptions {
  /** The hub's origin, as for the REST client (http-client.ts). */
  baseUrl: string;
  /** The session's master key (`ApiClient.key()`): Bearer for REST, `access_token` for sockets. */
  key: string;
  /** The browser's WebSocket (or `ws` in tests): the monitor needs its `send`. */
  createSocket: SocketFactory;
  fetch?: FetchLike;
  timeoutMs?: number;
}

/** Uploads can be large: the hub's default limit is 64 MB. */
export const UPLOAD_TIMEOUT_MS = 120_000;

export function createFlasherApi(o: FlasherApiOptions): FlasherApi {
  const base = o.baseUrl.replace(/\/+$/, '');
  const key = o.key;
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
      throw noAnswerError(e, controller.signal.aborted, 'the hub did not answer in time');
    } finally {
      clearTimeout(timer);
    }
    const parsed = parseAnswerBody(text);
    if (!res.ok) throw answerError(res.status, parsed);
    return parsed;
  }

  const bad = (what: string): ApiError =>
    new ApiError(0, 200, `the hub sent an unexpected ${what}`);

  return {
    async listPorts() {
      const v = await request('GET', '/ports');
      if (!Value.Check(PortList, v)) throw bad('port list');
      return v;
    },
    async listJobs() {
      const v = await request('GET', '/jobs');
      if (!Value.Check(JobList, v)) throw bad('job list');
      return v as JobView[];
    },
    async getJob(id) {
      const v = await request('GET', `/jobs/${encodeURIComponent(id)}`);
      if (!Value.Check(JobViewSchema, v)) throw bad('job');
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
      if (!Value.Check(Submitted, v)) throw bad('answer to the flash request');
      return v.job;
    },
    async cancel(id) {
      await request('DELETE', `/jobs/${encodeURIComponent(id)}`);
    },
    events(onBatch, onStatus, onOpen) {
      const stream = openNotifyStream({
        url: hubSocketUrl(base, '/api/v2/notify', key),
        createSocket: o.createSocket,
        onBatch: (batch) => {
          const mine = batch.filter((n) => n.name.startsWith('flash.'));
          if (mine.length > 0) onBatch(mine);
        },
        onStatus: onStatus ?? (() => {}),
        ...(onOpen ? { onOpen } : {}),
      });
      return () => stream.close();
    },
    monitor(port, baud, handlers) {
      const url = hubSocketUrl(base, '/api/v2/local/monitor', key, {
        port,
        baud: String(baud),
        format: 'lines',
      });
      let opened = false;
      let closed = false;
      const socket = o.createSocket(url);
      const send = (msg: object): void => {
        if (opened && !closed) socket.send?.(JSON.stringify(msg));
      };
      socket.onopen = () => {
        opened = true;
        handlers.onOpen();
      };
      socket.onmessage = (ev) => {
        let frame: unknown = null;
        try {
          frame = typeof ev.data === 'string' ? JSON.parse(ev.data) : null;
        } catch {
          frame = null;
        }
        if (Value.Check(MonitorFrameSchema, frame)) handlers.onFrame(frame);
      };
      socket.onerror = () => {
        // A close event always follows.
      };
      socket.onclose = (ev) => {
        if (closed) return;
        closed = true;
        handlers.onClose({ opened, code: ev.code, reason: ev.reason });
      };
      return {
        write: (text) => send({ type: 'write', data: text }),
        reset: () => send({ type: 'reset' }),
        close() {
          if (closed) return;
          closed = true;
          socket.close(1000, 'monitor closed');
          handlers.onClose({ opened, code: 1000, reason: 'closed' });
        },
      };
    },
  };
}

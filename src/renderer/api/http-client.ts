/**
 * The dashboard's REST client (PROTOCOL.md 4). The only module that calls `fetch`; every response
 * is checked (api/schemas.ts) before it reaches a store, and every failure becomes an ApiError
 * carrying the hub's error code.
 */
import type { DeviceObject, Json, JsonObject, ShadowDoc } from '../../shared/types';
import { ApiError } from './api-error';
import { answerError, noAnswerError, parseAnswerBody } from './hub-answer';
import { readDevice, readShadow } from './schemas';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ApiClientOptions {
  /** Origin of the hub, e.g. `http://192.168.1.10:8009` (the page's own origin in the dashboard). */
  baseUrl: string;
  key: string;
  fetch?: FetchLike;
  /** Plain requests give up after this; RPC calls get the hub's 30 s device timeout plus margin. */
  timeoutMs?: number;
  rpcTimeoutMs?: number;
}

export interface ShadowUpdate {
  state: { desired: JsonObject };
  /** When given, the hub applies the update only at this version (PROTOCOL.md 3), else 409. */
  version?: number;
}

export interface ApiClient {
  readonly baseUrl: string;
  /**
   * The key this client authenticates with. Other hub clients of the same session (the flasher's
   * `/api/v2/local/*` calls, its monitor socket) use it rather than asking the session again.
   */
  key(): string;
  /**
   * `GET /devices`; with `fields`, only those paths of each device (README "Device list"), the
   * rest normalized to empty values. The table asks for its few fields: at 10,000 devices that is
   * a few hundred KB instead of every shadow.
   */
  listDevices(fields?: readonly string[]): Promise<DeviceObject[]>;
  getDevice(id: string): Promise<DeviceObject>;
  createDevice(input: { name?: string; id?: string }): Promise<DeviceObject>;
  deleteDevice(id: string): Promise<void>;
  getShadow(id: string): Promise<ShadowDoc>;
  updateShadow(id: string, update: ShadowUpdate): Promise<ShadowDoc>;
  callRpc(id: string, method: string, params: Json | undefined): Promise<Json>;
  /** The management notify stream URL with the key as `access_token` (browsers cannot set headers on WebSockets). */
  notifyUrl(): string;
}

export const DEFAULT_TIMEOUT_MS = 15_000;
export const DEFAULT_RPC_TIMEOUT_MS = 40_000;

/**
 * A WebSocket URL on the hub with the key as `access_token` (PROTOCOL.md 7: browsers cannot set
 * an Authorization header on a WebSocket). `query` adds parameters such as the monitor's port.
 */
export function hubSocketUrl(
  baseUrl: string,
  path: string,
  key: string,
  query: Record<string, string> = {},
): string {
  const u = new URL(`${baseUrl.replace(/\/+$/, '')}${path}`);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  for (const [name, value] of Object.entries(query)) u.searchParams.set(name, value);
  u.searchParams.set('access_token', key);
  return u.toString();
}

function badResponse(what: string): ApiError {
  return new ApiError(0, 200, `the hub sent an unexpected ${what}`);
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const rpcTimeoutMs = options.rpcTimeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;

  async function request(
    method: string,
    path: string,
    body?: Json,
    timeout = timeoutMs,
  ): Promise<unknown> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeout);
    let res: Response;
    try {
      res = await doFetch(`${base}/api/v2${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${options.key}`,
          Accept: 'application/json',
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: controller.signal,
      });
    } catch (e) {
      clearTimeout(timer);
      throw noAnswerError(
        e,
        controller.signal.aborted,
        `the hub did not answer within ${Math.round(timeout / 1000)} s`,
      );
    }
    let text: string;
    try {
      text = await res.text();
    } catch {
      throw new ApiError(0, res.status, 'the connection to the hub broke during the answer');
    } finally {
      clearTimeout(timer);
    }
    const parsed = parseAnswerBody(text);
    if (!res.ok) throw answerError(res.status, parsed, res.statusText);
    return parsed;
  }

  const devicePath = (id: string): string => `/devices/${encodeURIComponent(id)}`;

  async function device(p: Promise<unknown>): Promise<DeviceObject> {
    const d = readDevice(await p);
    if (!d) throw badResponse('device object');
    return d;
  }

  return {
    baseUrl: base,
    async listDevices(fields) {
      const query =
        fields === undefined ? '' : `?fields=${fields.map(encodeURIComponent).join(',')}`;
      const list = await request('GET', `/devices${query}`);
      if (!Array.isArray(list)) throw badResponse('device list');
      const out: DeviceObject[] = [];
      for (const item of list) {
        const d = readDevice(item);
        if (d) out.push(d);
      }
      return out;
    },
    getDevice: (id) => device(request('GET', devicePath(id))),
    createDevice: (input) => {
      const body: JsonObject = {};
      if (input.name !== undefined && input.name !== '') body.name = input.name;
      if (input.id !== undefined && input.id !== '') body.id = input.id;
      return device(request('POST', '/devices', body));
    },
    async deleteDevice(id) {
      await request('DELETE', devicePath(id));
    },
    async getShadow(id) {
      const s = readShadow(await request('GET', `${devicePath(id)}/shadow`));
      if (!s) throw badResponse('shadow');
      return s;
    },
    async updateShadow(id, update) {
      const body: JsonObject = { state: { desired: update.state.desired } };
      if (update.version !== undefined) body.version = update.version;
      const s = readShadow(await request('POST', `${devicePath(id)}/shadow`, body));
      if (!s) throw badResponse('shadow');
      return s;
    },
    async callRpc(id, method, params) {
      // Methods without params get `{}`: what mDash clients send, and valid for every firmware.
      const result = await request(
        'POST',
        `${devicePath(id)}/rpc/${encodeURIComponent(method)}`,
        params === undefined ? {} : params,
        rpcTimeoutMs,
      );
      return (result === undefined ? null : result) as Json;
    },
    key: () => options.key,
    notifyUrl: () => hubSocketUrl(base, '/api/v2/notify', options.key),
  };
}

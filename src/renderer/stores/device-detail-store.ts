/**
 * One device's page: its shadow (PROTOCOL.md 3) with an editor for `desired`, RPC calls
 * (PROTOCOL.md 4 `/devices/:id/rpc/:method`), the live console (`rpc.out.Log`) and the device's
 * event list (PROTOCOL.md 7).
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { DeviceObject, Json, JsonObject, Notification } from '../../shared/types';
import { toApiError } from '../api/api-error';
import type { ApiClient } from '../api/http-client';
import { readDevice } from '../api/schemas';
import { desiredPatch } from '../lib/desired-patch';
import { isJsonObject, parseJsonObject, parseParams, prettyJson } from '../lib/json-text';
import { attachDecoded, readDecoded } from '../lib/decoded-backtrace';
import type { DecodedFrame } from '../../shared/crash';

export interface ConsoleLine {
  /** Local, increasing: React key and order. */
  n: number;
  fd: number;
  text: string;
  /** Device time (`t`), seconds, when sent. */
  t: number | null;
  /** The `Log` frame's `seq`, which a `log.decoded` notification names. */
  seq: number | null;
  /** Decoded panic backtrace frames (`log.decoded`), shown under the line. */
  frames?: DecodedFrame[];
  receivedAt: number;
}

export interface DeviceEvent {
  n: number;
  name: string;
  at: number;
  summary: string;
}

export type RpcOutcome =
  | { ok: true; method: string; value: Json; ms: number }
  | { ok: false; method: string; code: number; message: string; ms: number };

export interface ShadowConflict {
  code: number;
  message: string;
}

export type DetailStatus = 'idle' | 'loading' | 'ready' | 'missing' | 'deleted' | 'error';

export interface DeviceDetailState {
  id: string | null;
  device: DeviceObject | null;
  status: DetailStatus;
  loadError: string | null;
  console: ConsoleLine[];
  events: DeviceEvent[];
  /** Desired-state editor. */
  draft: string;
  /** The desired object and shadow version the draft started from (patch base, PROTOCOL.md 3). */
  draftBase: JsonObject;
  draftVersion: number;
  draftDirty: boolean;
  draftError: string | null;
  /** The hub's desired state changed while the draft was being edited. */
  remoteChanged: boolean;
  saving: boolean;
  conflict: ShadowConflict | null;
  rpcMethod: string;
  rpcParams: string;
  rpcInputError: string | null;
  rpcPending: boolean;
  rpcOutcome: RpcOutcome | null;

  open(id: string): Promise<void>;
  close(): void;
  applyNotifications(batch: readonly Notification[]): void;
  setDraft(text: string): void;
  /** Throws the draft away and shows the hub's current desired state. */
  resetDraft(): void;
  /** Reloads the device from the hub, then resets the draft (after a conflict). */
  loadLatest(): Promise<void>;
  /** Re-reads the device after the notify stream reconnected; keeps an unsaved draft. */
  refresh(): Promise<void>;
  saveDesired(): Promise<boolean>;
  setRpcMethod(method: string): void;
  setRpcParams(params: string): void;
  callRpc(): Promise<void>;
  clearConsole(): void;
}

export interface DeviceDetailDeps {
  api(): ApiClient | null;
  reportError(error: unknown, context: string): void;
  onUnauthorized(): void;
  now?(): number;
}

export const MAX_CONSOLE_LINES = 2000;
export const MAX_EVENTS = 300;
/** Method names as firmware registers them: `Sys.GetInfo`, `Shadow.Delta`, `My_Method-2`. */
export const RPC_METHOD_PATTERN = /^[A-Za-z_][\w.-]{0,127}$/;

export type DeviceDetailStore = StoreApi<DeviceDetailState>;

function desiredOf(device: DeviceObject): JsonObject {
  return device.shadow.state.desired;
}

function summarize(n: Notification): string {
  if (n.data === null || n.data === undefined) return '';
  if (['created', 'updated', 'online', 'offline'].includes(n.name) && readDevice(n.data)) {
    const d = readDevice(n.data);
    return d ? `shadow v${d.shadow.version}` : '';
  }
  const text = JSON.stringify(n.data);
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

function logLine(data: Json, n: number, receivedAt: number): ConsoleLine | null {
  if (!isJsonObject(data))
    return typeof data === 'string'
      ? { n, fd: 1, text: data, t: null, seq: null, receivedAt }
      : null;
  const text = data.data;
  if (typeof text !== 'string') return null;
  return {
    n,
    fd: typeof data.fd === 'number' ? data.fd : 1,
    text,
    t: typeof data.t === 'number' ? data.t : null,
    seq: typeof data.seq === 'number' ? data.seq : null,
    receivedAt,
  };
}

const draftOf = (desired: JsonObject): string => prettyJson(desired);

/**
 * Notifications carry the device without its password (README "Notifications"); the one read
 * by `GET /devices/:id` is kept so the page can still reveal it.
 */
function keepToken(next: DeviceObject, prev: DeviceObject | null): DeviceObject {
  return next.token === '' && prev !== null && prev.id === next.id
    ? { ...next, token: prev.token }
    : next;
}

export function createDeviceDetailStore(deps: DeviceDetailDeps): DeviceDetailStore {
  const now = deps.now ?? Date.now;
  let counter = 0;
  let openSeq = 0;

  const initial = {
    id: null,
    device: null,
    status: 'idle' as DetailStatus,
    loadError: null,
    console: [],
    events: [],
    draft: '',
    draftBase: {},
    draftVersion: 0,
    draftDirty: false,
    draftError: null,
    remoteChanged: false,
    saving: false,
    conflict: null,
    rpcMethod: 'Sys.GetInfo',
    rpcParams: '',
    rpcInputError: null,
    rpcPending: false,
    rpcOutcome: null,
  };

  return createStore<DeviceDetailState>()((set, get) => {
    function showDevice(device: DeviceObject, resetDraft: boolean): void {
      const s = get();
      if (resetDraft || !s.draftDirty) {
        set({
          device,
          draft: draftOf(desiredOf(device)),
          draftBase: desiredOf(device),
          draftVersion: device.shadow.version,
          draftDirty: false,
          draftError: null,
          remoteChanged: false,
        });
      } else {
        const changed = JSON.stringify(desiredOf(device)) !== JSON.stringify(s.draftBase);
        set({ device, remoteChanged: s.remoteChanged || changed });
      }
    }

    // After a save: the saved shadow becomes the draft's base. If the user typed on while the
    // save was in flight, what they typed stays (still unsaved, patched from the new base next
    // time); otherwise the editor shows the hub's state, clean.
    function savedAs(device: DeviceObject, sentDraft: string): void {
      if (get().draft === sentDraft) {
        showDevice(device, true);
        return;
      }
      set({
        device,
        draftBase: desiredOf(device),
        draftVersion: device.shadow.version,
        remoteChanged: false,
      });
    }

    function failed(e: unknown, context: string): void {
      if (toApiError(e).status === 401) deps.onUnauthorized();
      else deps.reportError(e, context);
    }

    return {
      ...initial,

      async open(id) {
        const seq = ++openSeq;
        set({ ...initial, id, status: 'loading' });
        const api = deps.api();
        if (!api) return;
        try {
          const device = await api.getDevice(id);
          if (seq !== openSeq) return;
          set({ status: 'ready' });
          showDevice(device, true);
        } catch (e) {
          if (seq !== openSeq) return;
          const err = toApiError(e);
          if (err.status === 404) set({ status: 'missing', loadError: err.message });
          else {
            set({ status: 'error', loadError: `${err.code}: ${err.message}` });
            if (err.status === 401) deps.onUnauthorized();
          }
        }
      },

      close() {
        openSeq++;
        set({ ...initial });
      },

      applyNotifications(batch) {
        const id = get().id;
        if (id === null) return;
        let consoleLines: ConsoleLine[] | null = null;
        let events: DeviceEvent[] | null = null;
        for (const n of batch) {
          if (n.id !== id) continue;
          const at = now();
          if (n.name === 'rpc.out.Log') {
            const line = logLine(n.data, ++counter, at);
            if (line) (consoleLines ??= []).push(line);
            continue;
          }
          if (n.name === 'log.decoded') {
            const decoded = readDecoded(n.data);
            if (decoded) {
              // The line may still be in this batch: attach after merging what came before it.
              const merged = [...get().console, ...(consoleLines ?? [])];
              const attached = attachDecoded(merged, decoded);
              if (attached !== merged) {
                set({ console: attached.slice(-MAX_CONSOLE_LINES) });
                consoleLines = null;
              }
            }
            continue;
          }
          (events ??= []).push({ n: ++counter, name: n.name, at, summary: summarize(n) });
          const s = get();
          if (n.name === 'deleted') {
            set({ status: 'deleted' });
          } else if (n.name === 'updated' || n.name === 'created') {
            const d = readDevice(n.data);
            if (d && s.status !== 'deleted') showDevice(keepToken(d, s.device), false);
          } else if ((n.name === 'online' || n.name === 'offline') && s.device) {
            const d = readDevice(n.data);
            const base = d ? keepToken(d, s.device) : s.device;
            set({
              device: { ...base, online: n.name === 'online', last_seen: Math.floor(at / 1000) },
            });
          }
        }
        const s = get();
        if (consoleLines)
          set({ console: [...s.console, ...consoleLines].slice(-MAX_CONSOLE_LINES) });
        if (events) set({ events: [...events.reverse(), ...get().events].slice(0, MAX_EVENTS) });
      },

      setDraft(text) {
        const r = parseJsonObject(text);
        set({ draft: text, draftDirty: true, draftError: r.ok ? null : r.error, conflict: null });
      },

      resetDraft() {
        const d = get().device;
        if (d) showDevice(d, true);
        set({ conflict: null });
      },

      async loadLatest() {
        const { id } = get();
        const api = deps.api();
        if (id === null || !api) return;
        try {
          const device = await api.getDevice(id);
          if (get().id !== id) return;
          showDevice(device, true);
          set({ conflict: null });
        } catch (e) {
          failed(e, 'Reload device');
        }
      },

      async refresh() {
        const { id, status } = get();
        const api = deps.api();
        if (id === null || !api || status !== 'ready') return;
        try {
          const device = await api.getDevice(id);
          // A read that crossed a save in flight may answer with an older shadow; versions only
          // grow (PROTOCOL.md 3), so an older one is dropped rather than shown over the newer.
          const shown = get().device?.shadow.version ?? -1;
          if (get().id === id && get().status === 'ready' && device.shadow.version >= shown)
            showDevice(device, false);
        } catch (e) {
          const err = toApiError(e);
          if (err.status === 404 && get().id === id) set({ status: 'deleted' });
          else failed(e, 'Reload device');
        }
      },

      async saveDesired() {
        const s = get();
        const api = deps.api();
        if (s.id === null || !api || s.saving) return false;
        const parsed = parseJsonObject(s.draft);
        if (!parsed.ok) {
          set({ draftError: parsed.error });
          return false;
        }
        const patch = desiredPatch(s.draftBase, parsed.value);
        if (Object.keys(patch).length === 0) {
          set({ draftDirty: false, draftError: null });
          return true;
        }
        const id = s.id;
        set({ saving: true, conflict: null });
        try {
          let version = s.draftVersion;
          for (let tries = 0; ; tries++) {
            try {
              const shadow = await api.updateShadow(id, { state: { desired: patch }, version });
              const base = get().device;
              if (get().id === id && base) savedAs({ ...base, shadow }, s.draft);
              return true;
            } catch (e) {
              const err = toApiError(e);
              if (err.status !== 409 || tries > 0) throw e;
              // The version also moves when the device reports (PROTOCOL.md 3). If `desired` is
              // still what the draft started from, the patch is still right: retry once at the
              // new version. If someone else changed `desired`, that is a real conflict.
              const fresh = await api.getShadow(id);
              if (JSON.stringify(fresh.state.desired) !== JSON.stringify(get().draftBase)) throw e;
              version = fresh.version;
            }
          }
        } catch (e) {
          const err = toApiError(e);
          if (err.status === 409) {
            set({
              conflict: {
                code: err.code,
                message:
                  'Someone changed the desired state since you started editing. Load the latest version, then apply your change again.',
              },
            });
          } else if (err.status === 413 || err.status === 400) {
            set({ draftError: `${err.code}: ${err.message}` });
          } else {
            failed(e, 'Save desired state');
          }
          return false;
        } finally {
          set({ saving: false });
        }
      },

      setRpcMethod: (rpcMethod) => set({ rpcMethod, rpcInputError: null }),
      setRpcParams: (rpcParams) => set({ rpcParams, rpcInputError: null }),

      async callRpc() {
        const s = get();
        const api = deps.api();
        if (s.id === null || !api || s.rpcPending) return;
        const method = s.rpcMethod.trim();
        if (!RPC_METHOD_PATTERN.test(method)) {
          set({ rpcInputError: 'Method names look like Sys.GetInfo (letters, digits, _ . -).' });
          return;
        }
        const params = parseParams(s.rpcParams);
        if (!params.ok) {
          set({ rpcInputError: `Params: ${params.error}` });
          return;
        }
        const id = s.id;
        const started = now();
        set({ rpcPending: true, rpcInputError: null });
        try {
          const value = await api.callRpc(id, method, params.value);
          if (get().id === id)
            set({ rpcOutcome: { ok: true, method, value, ms: now() - started } });
        } catch (e) {
          const err = toApiError(e);
          if (err.status === 401) deps.onUnauthorized();
          if (get().id === id) {
            set({
              rpcOutcome: {
                ok: false,
                method,
                code: err.code,
                message: err.message,
                ms: now() - started,
              },
            });
          }
        } finally {
          if (get().id === id) set({ rpcPending: false });
        }
      },

      clearConsole: () => set({ console: [] }),
    };
  });
}

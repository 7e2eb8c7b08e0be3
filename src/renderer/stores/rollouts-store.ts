/**
 * The Rollouts page (PROTOCOL.md 9 `/rollouts`): the list with states and counts, the create
 * form's wave preview (the hub's `POST /rollouts/preview` when it has one, else computed from the
 * device list by lib/wave-preview.ts), one rollout's detail with its devices, and pause / resume /
 * abort (optionally rolling the updated devices back) / retry. Live from `rollout.state` /
 * `rollout.device`: patches are applied at once, and a re-read of what the page shows follows
 * shortly after (coalesced), so counts stay exact whatever the notification carried.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { Notification } from '../../shared/types';
import { toApiError } from '../api/api-error';
import type { ApiClient } from '../api/http-client';
import type { OtaApi, RolloutBody } from '../api/ota-api';
import type { FirmwareView, RolloutView } from '../api/schemas';
import { deviceLabels, reportedFwId } from '../lib/ota-format';
import {
  patchRolloutDevice,
  rolloutDevicePatch,
  rolloutIdOf,
  rolloutOf,
} from '../lib/ota-notifications';
import { previewWaves, type PreviewDevice, type WavePreview } from '../lib/wave-preview';
import type { ActionError } from './devices-store';

export type RolloutAction = 'pause' | 'resume' | 'abort' | 'retry';

export interface PreviewState extends WavePreview {
  /** Who computed it: the hub's preview route, or this page from the device list. */
  source: 'hub' | 'local';
}

export interface RolloutsState {
  list: RolloutView[];
  loaded: boolean;
  loadError: string | null;
  library: FirmwareView[];
  /** The devices the preview is computed from (read when the form opens). */
  targets: PreviewDevice[];
  preview: PreviewState | null;
  previewError: string | null;
  creating: boolean;
  createError: ActionError | null;
  /** The rollout shown in detail (with its devices). */
  openId: string | null;
  detail: RolloutView | null;
  detailError: string | null;
  acting: RolloutAction | null;
  actionError: ActionError | null;
  refresh(): Promise<void>;
  loadFormData(): Promise<void>;
  updatePreview(body: RolloutBody): Promise<void>;
  create(body: RolloutBody): Promise<RolloutView | null>;
  clearCreateError(): void;
  openRollout(id: string | null): Promise<void>;
  /** Resolves with the rollback rollout an abort started, if any. */
  act(action: RolloutAction, opts?: { rollback?: boolean }): Promise<RolloutView | null>;
  applyNotifications(batch: readonly Notification[]): void;
}

export type RolloutsStore = StoreApi<RolloutsState>;

export interface RolloutsDeps {
  api(): OtaApi | null;
  devices(): ApiClient | null;
  onUnauthorized(): void;
  /** How long live updates wait to coalesce into one re-read (ms). */
  resyncMs?: number;
}

/** Fields of the device list the preview needs (README "Device list"). */
export const PREVIEW_FIELDS = [
  'id',
  'online',
  'shadow.version',
  'shadow.tags.labels',
  'shadow.state.reported.ota.fw_id',
];

export function createRolloutsStore(deps: RolloutsDeps): RolloutsStore {
  const resyncMs = deps.resyncMs ?? 250;
  let previewSeq = 0;
  let resyncTimer: ReturnType<typeof setTimeout> | null = null;
  let resyncList = false;
  let resyncDetail = false;

  return createStore<RolloutsState>()((set, get) => {
    const fail = (e: unknown): ActionError => {
      const err = toApiError(e);
      if (err.status === 401) deps.onUnauthorized();
      return { code: err.code, message: err.message };
    };
    const upsert = (r: RolloutView): void => {
      const list = get().list;
      const i = list.findIndex((x) => x.id === r.id);
      // The list keeps its summary; the devices live on the detail only.
      const { devices: _omit, ...summary } = r;
      const next = i >= 0 ? list.map((x) => (x.id === r.id ? summary : x)) : [summary, ...list];
      set({ list: next });
      if (get().openId === r.id) {
        const cur = get().detail;
        set({ detail: { ...r, devices: r.devices ?? cur?.devices ?? [] } });
      }
    };
    const scheduleResync = (list: boolean, detail: boolean): void => {
      resyncList ||= list;
      resyncDetail ||= detail;
      if (resyncTimer !== null) return;
      resyncTimer = setTimeout(() => {
        resyncTimer = null;
        const doList = resyncList;
        const doDetail = resyncDetail;
        resyncList = resyncDetail = false;
        if (doList) void get().refresh();
        const id = get().openId;
        if (doDetail && id !== null) void get().openRollout(id);
      }, resyncMs);
    };

    return {
      list: [],
      loaded: false,
      loadError: null,
      library: [],
      targets: [],
      preview: null,
      previewError: null,
      creating: false,
      createError: null,
      openId: null,
      detail: null,
      detailError: null,
      acting: null,
      actionError: null,

      async refresh() {
        const api = deps.api();
        if (!api) return;
        try {
          const list = await api.listRollouts();
          list.sort((a, b) => b.created - a.created);
          set({ list, loaded: true, loadError: null });
        } catch (e) {
          set({ loadError: fail(e).message, loaded: true });
        }
      },

      async loadFormData() {
        const api = deps.api();
        const devices = deps.devices();
        if (!api || !devices) return;
        const [library, list] = await Promise.allSettled([
          api.listFirmware(),
          devices.listDevices(PREVIEW_FIELDS),
        ]);
        if (library.status === 'fulfilled') set({ library: library.value });
        if (list.status === 'fulfilled') {
          set({
            targets: list.value.map((d) => ({
              id: d.id,
              online: d.online,
              labels: deviceLabels(d),
              fwId: reportedFwId(d),
            })),
          });
        }
      },

      async updatePreview(body) {
        const seq = ++previewSeq;
        const api = deps.api();
        const local = (): PreviewState => {
          const fw = get().library.find((f) => f.id === body.firmware);
          return {
            ...previewWaves(get().targets, {
              ...(body.devices ? { devices: body.devices } : {}),
              ...(body.labels !== undefined ? { labels: body.labels } : {}),
              waves: body.waves,
              skip_current: body.skip_current,
              offline: body.offline,
              targetFwId: fw?.fw_id ?? '',
            }),
            source: 'local',
          };
        };
        if (!api || body.firmware === '') {
          set({ preview: local(), previewError: null });
          return;
        }
        try {
          const hub = await api.previewRollout(body);
          if (seq !== previewSeq) return;
          if (hub === null) set({ preview: local(), previewError: null });
          else {
            const mine = local();
            set({
              preview: {
                total: hub.total,
                waves: hub.waves,
                skippedCurrent: hub.skipped?.current ?? mine.skippedCurrent,
                offline:
                  body.offline === 'skip'
                    ? (hub.skipped?.offline ?? mine.offline)
                    : (hub.offline_waiting ?? mine.offline),
                source: 'hub',
              },
              previewError: null,
            });
          }
        } catch (e) {
          if (seq !== previewSeq) return;
          // The hub refused the body as it stands (e.g. no target yet): say why, keep our numbers.
          set({ preview: local(), previewError: fail(e).message });
        }
      },

      async create(body) {
        const api = deps.api();
        if (!api || get().creating) return null;
        set({ creating: true, createError: null });
        try {
          const r = await api.createRollout(body);
          upsert(r);
          return r;
        } catch (e) {
          set({ createError: fail(e) });
          return null;
        } finally {
          set({ creating: false });
        }
      },

      clearCreateError: () => set({ createError: null }),

      async openRollout(id) {
        if (id !== get().openId) {
          set({ openId: id, detail: null, detailError: null, actionError: null });
        }
        const api = deps.api();
        if (id === null || !api) return;
        try {
          const r = await api.getRollout(id);
          if (get().openId === id) upsert(r);
        } catch (e) {
          if (get().openId === id) set({ detailError: fail(e).message });
        }
      },

      async act(action, opts = {}) {
        const api = deps.api();
        const id = get().openId;
        if (!api || id === null || get().acting) return null;
        set({ acting: action, actionError: null });
        try {
          const r = await api.rolloutAction(
            id,
            action,
            action === 'abort' && opts.rollback ? { rollback: true } : undefined,
          );
          upsert(r.rollout);
          if (r.rollback) upsert(r.rollback);
          scheduleResync(true, true);
          if (r.rollbackError && get().openId === id) {
            set({
              actionError: {
                code: 0,
                message: `Aborted, but nothing was rolled back: ${r.rollbackError.message}`,
              },
            });
          }
          return r.rollback ?? null;
        } catch (e) {
          if (get().openId === id) set({ actionError: fail(e) });
          return null;
        } finally {
          set({ acting: null });
        }
      },

      applyNotifications(batch) {
        let list = false;
        let detail = false;
        const openId = get().openId;
        for (const n of batch) {
          if (!n.name.startsWith('rollout.')) continue;
          const whole = rolloutOf(n);
          if (whole) upsert(whole);
          const id = rolloutIdOf(n);
          list = true;
          if (id !== null && id === openId) {
            detail = true;
            if (n.name === 'rollout.device') {
              const patch = rolloutDevicePatch(n);
              const cur = get().detail;
              if (patch && cur) set({ detail: patchRolloutDevice(cur, patch) });
            }
          } else if (id === null && openId !== null) detail = true;
        }
        if (list || detail) scheduleResync(list, detail);
      },
    };
  });
}

/**
 * The flasher page's store (DESIGN.md example 7: one zustand store per feature, actions beside
 * their state). Ports and jobs come from `/api/v2/local/*`; job states and progress arrive as
 * `flash.state` / `flash.progress` notifications and are applied in place, so the bars move
 * without polling.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { FlashState } from '../../../shared/flash-state';
import type { Notification } from '../../../shared/types';
import { toApiError } from '../../api/api-error';
import { refusalHint, splitHint } from './job-format';
import type {
  FlasherApi,
  FlashFileInput,
  FlashOptionsInput,
  JobView,
  PortView,
} from '../../api/flasher-api';

/** Why the hub refused the last flash request, shown beside the Flash button until the next one. */
export interface SubmitError {
  /** Catalog code (src/shared/errors.ts), 0 when the hub was not reached. */
  code: number;
  message: string;
  hint?: string;
}

export interface FlasherState {
  ports: PortView[];
  /** Newest first. */
  jobs: JobView[];
  loading: boolean;
  submitting: boolean;
  /** Why ports and jobs could not be loaded. */
  error: string | null;
  submitError: SubmitError | null;
  refresh(): Promise<void>;
  flash(files: FlashFileInput[], options: FlashOptionsInput): Promise<string | null>;
  clearSubmitError(): void;
  cancel(id: string): Promise<void>;
  applyNotifications(batch: readonly Notification[]): void;
}

export type FlasherStore = StoreApi<FlasherState>;

export interface FlasherDeps {
  api: FlasherApi;
  /** Failed calls other than the flash request itself (that one stays on the form). */
  reportError(error: unknown, context: string): void;
}

interface StateData {
  job?: unknown;
  state?: unknown;
}

function isState(v: unknown): v is FlashState {
  return (
    typeof v === 'object' && v !== null && typeof (v as { state?: unknown }).state === 'string'
  );
}

/** The job's state after a batch of `flash.state` / `flash.progress` notifications (pure). */
export function applyFlashNotifications(
  jobs: readonly JobView[],
  batch: readonly Notification[],
): {
  jobs: JobView[];
  unknown: boolean;
} {
  const byId = new Map(jobs.map((j) => [j.id, j]));
  let unknown = false;
  for (const n of batch) {
    const d = n.data as StateData | null;
    if (!d || typeof d !== 'object' || typeof d.job !== 'string') continue;
    let state: FlashState | null = null;
    if (n.name === 'flash.state' && isState(d.state)) state = d.state;
    else if (n.name === 'flash.progress') {
      const p = n.data as { bytes?: unknown; total?: unknown; file?: unknown; files?: unknown };
      if (typeof p.bytes === 'number' && typeof p.total === 'number') {
        state = {
          state: 'writing',
          bytes: p.bytes,
          total: p.total,
          ...(typeof p.file === 'number' && { file: p.file }),
          ...(typeof p.files === 'number' && { files: p.files }),
        };
      }
    }
    if (!state) continue;
    const job = byId.get(d.job);
    if (!job) {
      unknown = true;
      continue;
    }
    // A late progress frame must not turn a finished job back into "writing".
    if (['done', 'failed', 'cancelled'].includes(job.state.state) && state.state === 'writing')
      continue;
    byId.set(job.id, { ...job, state });
  }
  return { jobs: jobs.map((j) => byId.get(j.id) ?? j), unknown };
}

export function createFlasherStore(deps: FlasherDeps): FlasherStore {
  return createStore<FlasherState>()((set, get) => ({
    ports: [],
    jobs: [],
    loading: false,
    submitting: false,
    error: null,
    submitError: null,

    async refresh() {
      set({ loading: true });
      try {
        const [ports, jobs] = await Promise.all([deps.api.listPorts(), deps.api.listJobs()]);
        set({ ports, jobs, loading: false, error: null });
      } catch (e) {
        set({ loading: false, error: e instanceof Error ? e.message : String(e) });
      }
    },

    async flash(files, options) {
      set({ submitting: true, submitError: null });
      try {
        const id = await deps.api.flash(files, options);
        set({ submitting: false });
        await get().refresh();
        return id;
      } catch (e) {
        const err = toApiError(e);
        const split = splitHint(err.message);
        const hint = split.hint ?? refusalHint(err.code);
        set({
          submitting: false,
          submitError: { code: err.code, message: split.message, ...(hint ? { hint } : {}) },
        });
        // The port list may be stale (a port gone or taken elsewhere): show the hub's view.
        void get().refresh();
        return null;
      }
    },

    clearSubmitError() {
      if (get().submitError) set({ submitError: null });
    },

    async cancel(id) {
      try {
        await deps.api.cancel(id);
      } catch (e) {
        deps.reportError(e, 'Cancel');
      }
    },

    applyNotifications(batch) {
      const { jobs, unknown } = applyFlashNotifications(get().jobs, batch);
      set({ jobs });
      // A job started elsewhere (CLI against this hub, another tab), or ports changed: reload.
      const portsChanged = batch.some((n) => n.name.startsWith('flash.port.'));
      const finished = batch.some(
        (n) =>
          n.name === 'flash.state' &&
          isState((n.data as StateData).state) &&
          ['done', 'failed', 'cancelled'].includes(
            ((n.data as StateData).state as FlashState).state,
          ),
      );
      if (unknown || portsChanged || finished) void get().refresh();
    },
  }));
}

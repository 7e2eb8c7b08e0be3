/**
 * OTA on the device page (PROTOCOL.md 6, 9): the device's jobs with live progress (`ota.progress`
 * / `ota.state` from the app's one notify stream), a start from a picked file or a library
 * firmware (`?wait=0`, so the reply is the queued job), Cancel, a refusal shown under the form
 * (a platform mismatch offers Force), and Commit / Revert for a Mongoose OS device running an
 * uncommitted image (the job says `uncommitted`, or `OTA.GetBootState` says `is_committed:false`).
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { Notification } from '../../shared/types';
import { toApiError } from '../api/api-error';
import type { OtaApi, OtaSource } from '../api/ota-api';
import type { BootStateView, FirmwareView, OtaJobView } from '../api/schemas';
import { applyOtaNotifications } from '../lib/ota-notifications';
import { isJobActive } from '../lib/ota-format';
import type { ActionError } from './devices-store';
import type { UploadState } from './firmware-store';

export interface StartError extends ActionError {
  /** The hub would accept it with `force=1` (platform mismatch, not an image). */
  forceable: boolean;
}

export interface OtaState {
  device: string | null;
  /** This device's jobs, newest first. */
  jobs: OtaJobView[];
  jobsError: string | null;
  library: FirmwareView[];
  /** Mongoose OS boot state; null when unknown or the firmware has no commit step. */
  bootState: BootStateView | null;
  starting: boolean;
  upload: UploadState | null;
  startError: StartError | null;
  acting: 'cancel' | 'commit' | 'revert' | null;
  actionError: ActionError | null;
  open(device: string, online: boolean): Promise<void>;
  close(): void;
  reload(): Promise<void>;
  start(source: OtaSource, force?: boolean): Promise<OtaJobView | null>;
  cancel(job: string): Promise<void>;
  commit(): Promise<void>;
  revert(): Promise<void>;
  checkBootState(): Promise<void>;
  clearStartError(): void;
  applyNotifications(batch: readonly Notification[]): void;
}

export type OtaStore = StoreApi<OtaState>;

export interface OtaDeps {
  api(): OtaApi | null;
  onUnauthorized(): void;
}

/** Refusals the hub lifts with `?force=1` (PROTOCOL.md 9): platform mismatch (409), not an image (400). */
export function isForceable(e: { status: number; code: number; message: string }): boolean {
  // 4096 platform_mismatch, 4003 image_invalid (src/shared/errors.ts).
  return e.code === 4096 || e.code === 4003 || (e.status === 409 && /platform/i.test(e.message));
}

/** Whether the page offers Commit / Revert. */
export function needsCommit(latest: OtaJobView | undefined, boot: BootStateView | null): boolean {
  if (boot) return !boot.is_committed;
  return latest !== undefined && latest.state === 'done' && latest.uncommitted === true;
}

export function createOtaStore(deps: OtaDeps): OtaStore {
  let seq = 0;
  // One OTA.GetBootState at a time: a job's end and the device's return often come together.
  let bootCheck: Promise<void> | null = null;
  return createStore<OtaState>()((set, get) => {
    const initial = {
      device: null,
      jobs: [],
      jobsError: null,
      library: [],
      bootState: null,
      starting: false,
      upload: null,
      startError: null,
      acting: null,
      actionError: null,
    };
    const act = async (
      what: 'cancel' | 'commit' | 'revert',
      run: (api: OtaApi, device: string) => Promise<void>,
    ): Promise<void> => {
      const api = deps.api();
      const device = get().device;
      if (!api || device === null || get().acting) return;
      set({ acting: what, actionError: null });
      try {
        await run(api, device);
      } catch (e) {
        const err = toApiError(e);
        if (err.status === 401) deps.onUnauthorized();
        if (get().device === device) set({ actionError: { code: err.code, message: err.message } });
      } finally {
        if (get().device === device) set({ acting: null });
      }
    };

    return {
      ...initial,

      async open(device, online) {
        const s = ++seq;
        set({ ...initial, device });
        await get().reload();
        if (s === seq && online) await get().checkBootState();
      },

      close() {
        seq++;
        set({ ...initial });
      },

      async reload() {
        const api = deps.api();
        const device = get().device;
        if (!api || device === null) return;
        const s = seq;
        const [jobs, library] = await Promise.allSettled([
          api.listJobs(device),
          api.listFirmware(),
        ]);
        if (s !== seq) return;
        if (jobs.status === 'fulfilled') {
          const mine = jobs.value.filter((j) => j.device === device);
          mine.sort((a, b) => b.created - a.created);
          set({ jobs: mine, jobsError: null });
        } else {
          const err = toApiError(jobs.reason);
          if (err.status === 401) deps.onUnauthorized();
          set({ jobsError: err.message });
        }
        if (library.status === 'fulfilled') set({ library: library.value });
      },

      async start(source, force = false) {
        const api = deps.api();
        const device = get().device;
        if (!api || device === null || get().starting) return null;
        const name = 'file' in source ? source.name : '';
        set({
          starting: true,
          startError: null,
          actionError: null,
          upload: 'file' in source ? { name, loaded: 0, total: source.file.size } : null,
        });
        try {
          const job = await api.startOta(device, source, { force }, (p) =>
            set({ upload: { name, loaded: p.loaded, total: p.total } }),
          );
          if (get().device !== device) return job;
          const others = get().jobs.filter((j) => j.id !== job.id);
          // A notification may already have brought a newer state of the same job.
          const known = get().jobs.find((j) => j.id === job.id);
          set({ jobs: [known ?? job, ...others], bootState: null });
          return job;
        } catch (e) {
          const err = toApiError(e);
          if (err.status === 401) deps.onUnauthorized();
          if (get().device === device) {
            set({
              startError: { code: err.code, message: err.message, forceable: isForceable(err) },
            });
          }
          return null;
        } finally {
          if (get().device === device) set({ starting: false, upload: null });
        }
      },

      cancel: (job) =>
        act('cancel', async (api) => {
          await api.cancelJob(job);
        }),

      commit: () =>
        act('commit', async (api, device) => {
          await api.commit(device);
          // A check that started before the commit would bring the old boot state back.
          if (bootCheck) await bootCheck;
          set({
            bootState: null,
            jobs: get().jobs.map((j) => (j.uncommitted ? { ...j, uncommitted: false } : j)),
          });
          await get().checkBootState();
        }),

      revert: () =>
        act('revert', async (api, device) => {
          await api.revert(device);
          set({
            bootState: null,
            jobs: get().jobs.map((j) => (j.uncommitted ? { ...j, uncommitted: false } : j)),
          });
        }),

      checkBootState() {
        const api = deps.api();
        const device = get().device;
        if (!api || device === null) return Promise.resolve();
        if (bootCheck) return bootCheck;
        bootCheck = (async () => {
          try {
            const boot = await api.bootState(device);
            if (get().device === device) set({ bootState: boot });
          } catch {
            // Offline or busy: the job's `uncommitted` flag still drives the buttons.
          } finally {
            bootCheck = null;
          }
        })();
        return bootCheck;
      },

      clearStartError: () => set({ startError: null }),

      applyNotifications(batch) {
        const device = get().device;
        if (device === null) return;
        const relevant = batch.filter(
          (n) =>
            (n.name === 'ota.state' || n.name === 'ota.progress') &&
            (n.id === device || n.id === ''),
        );
        if (relevant.length > 0) {
          const before = get().jobs;
          const r = applyOtaNotifications(before, relevant, (j) => j.device === device);
          if (r.changed) set({ jobs: r.jobs });
          const ended = r.jobs.some((j) => {
            const prev = before.find((b) => b.id === j.id);
            return prev !== undefined && isJobActive(prev) && !isJobActive(j);
          });
          if (r.unknown) void get().reload();
          // A Mongoose OS image boots uncommitted: ask the device once the job ended. The
          // library learned the new firmware's fw_id from this update: re-read it too.
          if (ended) {
            void get().checkBootState();
            if (!r.unknown) void get().reload();
          }
        }
        // The device came back (after its reboot, or a revert): its boot state may have changed.
        if (batch.some((n) => n.id === device && n.name === 'online')) void get().checkBootState();
      },
    };
  });
}

/**
 * Single-device OTA jobs (issue 8, PROTOCOL.md 6 and 9): one job per device at a time, a global
 * limit on concurrent transfers with a FIFO queue, cancel, jobs persisted in SQLite.
 *
 * The public surface below is what the REST routes and the rollout code use. It is the contract
 * with the rollout helper: add members freely, never rename these.
 */
import { rm } from 'node:fs/promises';
import type { Json, JsonObject } from '../../shared/types';
import { HubError } from '../../shared/errors';
import { isFinalOtaState, type OtaJob, type OtaProgress } from '../../shared/ota';
import type { OtaLimits } from '../config';
import type { DeviceService } from '../devices/device-service';
import type { NotificationBus } from '../events/notification-bus';
import type { FirmwareLibrary } from '../firmware/firmware-library';
import type { OtaJobsRepo } from '../store/ota-jobs-repo';
import { randomId } from '../store/secrets';
import { isJsonObject } from '../shadow/json-value';
import type { OtaImageReader } from './ota-image-reader';
import { OtaWriteGate } from './ota-write-gate';
import {
  jobErrorOf,
  isMethodNotFound,
  runOtaJob,
  verify,
  type ComeBack,
  type RunnerContext,
} from './ota-job-runner';
import { percentOf, platformMismatch, ProgressThrottle } from './ota-outcome';

export interface OtaStartRequest {
  device: string;
  /** Library firmware id. */
  firmware: string;
  /** Override a platform mismatch and a not-an-image refusal. */
  force?: boolean;
  /** Mongoose OS: commit the new image as soon as it is verified (single-device OTA default: no). */
  commit?: boolean;
  /** The rollout the job belongs to, stored with the job. */
  rollout?: string;
  /**
   * Mongoose OS `OTA.Begin` commit_timeout in seconds (default `ota.commitTimeoutS`): a rollout
   * passes more than its health window, since it commits at the window's end.
   */
  commitTimeoutS?: number;
}

/** `OTA.GetBootState` as Mongoose OS answers it (PROTOCOL.md 2). */
export interface OtaBootState {
  active_slot: number;
  is_committed: boolean;
  revert_slot: number;
  commit_timeout: number;
}

export interface OtaManagerApi {
  /**
   * Queues a job and returns it at once (state `queued`, or `sending` when a transfer slot is
   * free). Throws coded HubErrors: device_not_found / firmware_not_found (404), ota_in_progress
   * (409: the device has an unfinished job), platform_mismatch (409 unless force), image_invalid
   * (400: not an image, unless force), device_offline (503), too_large / image_too_large (413).
   */
  start(req: OtaStartRequest): OtaJob;
  /** One job; throws job_not_found. */
  get(id: string): OtaJob;
  /** Jobs newest first, optionally of one device. */
  list(filter?: { device?: string; rollout?: string; limit?: number }): OtaJob[];
  /** Cancels a queued or sending job (a later state cannot be undone: 409 conflict). */
  cancel(id: string): OtaJob;
  /** Every state change of every job (not progress ticks); returns the unsubscribe function. */
  onChange(listener: (job: OtaJob) => void): () => void;
  /** The device's unfinished job, if any. */
  activeFor(device: string): OtaJob | undefined;
  /** Resolves with the job once it reached a final state. */
  wait(id: string): Promise<OtaJob>;
  /** Mongoose OS: `OTA.Commit` / `OTA.Revert`, then the new boot state (409 nothing to commit). */
  commit(device: string): Promise<OtaBootState>;
  revert(device: string): Promise<OtaBootState>;
}
/*
 * After a hub restart (recover()): jobs of a rollout that were rebooting/verifying when the hub
 * stopped are re-verified automatically (state `verifying`, a fresh reboot window); other
 * unfinished jobs end `failed` with code `ota_interrupted`.
 */

export interface OtaManagerDeps {
  devices: DeviceService;
  library: FirmwareLibrary;
  bus: NotificationBus;
  repo: OtaJobsRepo;
  limits: OtaLimits;
  log: { warn(obj: object, msg: string): void };
  now?: () => number;
}

/** A file sent straight to a device without entering the library (a forced non-image). */
export interface OtaLooseFile {
  path: string;
  /** Removed when the job ends. */
  temporary: true;
}

interface Running {
  job: OtaJob;
  abort: AbortController;
  path: string;
  loose?: OtaLooseFile;
  commit: boolean;
  commitTimeoutS: number;
  throttle: ProgressThrottle;
  /**
   * Last percent the Arduino library reported with `State.Set` (PROTOCOL.md 6). Only kept: the
   * library sends it before the reply of the call that caused it, and that reply's `progress`
   * publishes it with the bytes it stands for (one throttle check per chunk, not two).
   */
  devicePercent: number | null;
  unsubscribe?: () => void;
  reader?: OtaImageReader;
  /** Set once the job reached its final state: later updates from a runner are ignored. */
  finished?: boolean;
}

const nowSec = (): number => Math.floor(Date.now() / 1000);

/** Jobs listed at most (GET /ota): newest first. */
const LIST_MAX = 1000;

export class OtaManager implements OtaManagerApi {
  private readonly active = new Map<string, Running>();
  /** Device id -> job id of its unfinished job. */
  private readonly byDevice = new Map<string, string>();
  private readonly queue: string[] = [];
  private sending = 0;
  private readonly listeners = new Set<(job: OtaJob) => void>();
  private readonly waiters = new Map<string, ((job: OtaJob) => void)[]>();
  private stopped = false;
  private readonly now: () => number;
  private readonly runs = new Set<Promise<void>>();

  /** Bounds the `OTA.Write` calls in flight across all transfers (ota-write-gate.ts). */
  readonly writeGate: OtaWriteGate;

  constructor(private readonly d: OtaManagerDeps) {
    this.now = d.now ?? nowSec;
    this.writeGate = new OtaWriteGate(Math.max(1, d.limits.maxInflightWrites));
  }

  /**
   * Settles what an earlier run left unfinished: a rollout's job that was rebooting or verifying
   * is verified again (the device tells its fw_id when it reconnects); anything else ends failed
   * with `ota_interrupted` (a transfer cannot resume: a retry starts over).
   */
  recover(): void {
    for (const job of this.d.repo.unfinished()) {
      if (job.rollout !== undefined && (job.state === 'rebooting' || job.state === 'verifying')) {
        this.reverify(job);
        continue;
      }
      this.d.repo.save({
        ...job,
        state: 'failed',
        error: { code: 'ota_interrupted', message: 'the hub stopped while this update ran' },
        ended: this.now(),
      });
    }
  }

  start(req: OtaStartRequest & { loose?: OtaLooseFile }): OtaJob {
    if (this.stopped) throw new HubError('device_offline', 'the hub is stopping');
    const device = this.d.devices.get(req.device);
    const firmware = req.loose ? undefined : this.d.library.get(req.firmware);
    const running = this.activeFor(req.device);
    if (running) {
      throw new HubError(
        'ota_in_progress',
        `device '${req.device}' already has OTA job ${running.id} (${running.state}); cancel it or wait`,
        { job: running.id },
      );
    }
    if (!this.d.devices.isOnline(req.device)) {
      throw new HubError('device_offline', `device '${req.device}' is offline`);
    }
    const info = reportedOta(device.shadow.state.reported);
    const arch = typeof info['arch'] === 'string' ? info['arch'] : '';
    if (firmware && !req.force && platformMismatch(firmware.platform, arch)) {
      throw new HubError(
        'platform_mismatch',
        `firmware '${firmware.id}' is built for platform '${firmware.platform}', device '${req.device}' reports arch '${arch}'; add force=1 to send it anyway`,
        { firmware: firmware.platform, device: arch },
      );
    }
    const job: OtaJob = {
      id: randomId('ota', 12),
      device: req.device,
      firmware: firmware?.id ?? '',
      state: 'queued',
      bytes: 0,
      total: firmware?.size ?? 0,
      from_fw: typeof info['fw_id'] === 'string' ? info['fw_id'] : '',
      to_fw: '',
      created: this.now(),
      ended: null,
      family: 'unknown',
      ...(req.rollout !== undefined && { rollout: req.rollout }),
    };
    const run: Running = {
      job,
      abort: new AbortController(),
      path: req.loose?.path ?? this.d.library.pathOf(job.firmware),
      ...(req.loose && { loose: req.loose }),
      commit: req.commit === true,
      commitTimeoutS: req.commitTimeoutS ?? this.d.limits.commitTimeoutS,
      throttle: new ProgressThrottle(this.d.limits.progressIntervalMs),
      devicePercent: null,
    };
    this.active.set(job.id, run);
    this.byDevice.set(job.device, job.id);
    this.queue.push(job.id);
    this.changed(run);
    this.pump();
    return { ...run.job };
  }

  get(id: string): OtaJob {
    const run = this.active.get(id);
    if (run) return { ...run.job };
    const stored = this.d.repo.get(id);
    if (!stored) throw new HubError('job_not_found', `no OTA job '${id}'`);
    return stored;
  }

  list(filter: { device?: string; rollout?: string; limit?: number } = {}): OtaJob[] {
    const limit = Math.min(filter.limit ?? LIST_MAX, LIST_MAX);
    // Stored rows carry every state change; running jobs add their live byte count.
    return this.d.repo
      .list({
        limit,
        ...(filter.device !== undefined && { device: filter.device }),
        ...(filter.rollout !== undefined && { rollout: filter.rollout }),
      })
      .map((j) => {
        const run = this.active.get(j.id);
        return run ? { ...run.job } : j;
      });
  }

  cancel(id: string): OtaJob {
    const run = this.active.get(id);
    if (!run) {
      const job = this.get(id);
      throw new HubError('conflict', `OTA job ${id} has ended (${job.state})`);
    }
    const { job } = run;
    const i = this.queue.indexOf(id);
    if (job.state === 'queued' && i >= 0) {
      this.queue.splice(i, 1);
      this.finish(run, { state: 'cancelled' });
    } else if (job.state === 'queued' || job.state === 'sending') {
      // Dispatched (its file opening) or sending: the runner stops before its next write.
      run.abort.abort();
    } else {
      throw new HubError(
        'conflict',
        `OTA job ${id} is ${job.state}: the image is on the device, only the outcome is left to wait for`,
      );
    }
    return { ...run.job };
  }

  onChange(listener: (job: OtaJob) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  activeFor(device: string): OtaJob | undefined {
    const id = this.byDevice.get(device);
    const run = id === undefined ? undefined : this.active.get(id);
    return run ? { ...run.job } : undefined;
  }

  wait(id: string): Promise<OtaJob> {
    const job = this.get(id);
    if (isFinalOtaState(job.state)) return Promise.resolve(job);
    return new Promise((resolve) => {
      const list = this.waiters.get(id) ?? [];
      list.push(resolve);
      this.waiters.set(id, list);
    });
  }

  /** Jobs waiting for a transfer slot. */
  get queued(): number {
    return this.queue.length;
  }

  /** Transfers running now. */
  get transferring(): number {
    return this.sending;
  }

  async commit(device: string): Promise<OtaBootState> {
    await this.uncommittedBootState(device);
    await this.d.devices.call(device, 'OTA.Commit');
    const state = toBootState(await this.d.devices.call(device, 'OTA.GetBootState'));
    this.settleCommit(device, false);
    return state;
  }

  async revert(device: string): Promise<OtaBootState> {
    await this.uncommittedBootState(device);
    // Mongoose OS reboots into the previous slot; the boot state is asked once it is back.
    const back = this.comeBack(device, this.d.limits.rebootWindowMs, undefined, true);
    try {
      await this.d.devices.call(device, 'OTA.Revert');
    } catch (err) {
      if (!(err instanceof HubError && err.kind === 'device_offline')) {
        back.cancel();
        throw err;
      }
    }
    const info = await back.info;
    if (info === null) {
      throw new HubError('device_timeout', `device '${device}' did not come back after OTA.Revert`);
    }
    this.settleCommit(device, true);
    return toBootState(await this.d.devices.call(device, 'OTA.GetBootState'));
  }

  /** Stops every job without ending it: the next start settles them (recover()). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.length = 0;
    for (const run of this.active.values()) run.abort.abort();
    await Promise.allSettled([...this.runs]);
    for (const run of this.active.values()) run.unsubscribe?.();
  }

  private async uncommittedBootState(device: string): Promise<OtaBootState> {
    this.d.devices.get(device);
    if (!this.d.devices.isOnline(device)) {
      throw new HubError('device_offline', `device '${device}' is offline`);
    }
    let raw: Json;
    try {
      raw = await this.d.devices.call(device, 'OTA.GetBootState');
    } catch (err) {
      if (isMethodNotFound(err)) {
        throw new HubError(
          'nothing_to_commit',
          `device '${device}' has no commit step (Arduino / ESP-IDF: updates are committed at boot)`,
        );
      }
      throw err;
    }
    const state = toBootState(raw);
    if (state.is_committed) {
      throw new HubError('nothing_to_commit', `device '${device}' runs a committed image`);
    }
    return state;
  }

  /** The device's newest uncommitted job is settled: committed, or reverted. */
  private settleCommit(device: string, reverted: boolean): void {
    const [last] = this.d.repo.list({ device, limit: 1 });
    if (!last || last.uncommitted !== true) return;
    const job: OtaJob = { ...last, uncommitted: false, ...(reverted && { reverted: true }) };
    this.d.repo.save(job);
    this.publishState(job);
  }

  private pump(): void {
    while (!this.stopped && this.sending < this.d.limits.maxConcurrent && this.queue.length > 0) {
      const id = this.queue.shift();
      const run = id === undefined ? undefined : this.active.get(id);
      if (!run) continue;
      this.sending++;
      const p = this.execute(run).finally(() => {
        this.runs.delete(p);
      });
      this.runs.add(p);
    }
  }

  private async execute(run: Running): Promise<void> {
    let slotHeld = true;
    const releaseSlot = (): void => {
      if (!slotHeld) return;
      slotHeld = false;
      this.sending--;
      this.pump();
    };
    // The Arduino library reports progress as State.Set {"ota":{"percent"}} (PROTOCOL.md 6).
    run.unsubscribe = this.d.bus.subscribe(
      (p) => {
        if (p.n.name !== 'rpc.out.State.Set') return;
        const percent = statePercent(p.n.data);
        if (percent !== undefined) this.devicePercent(run, percent);
      },
      { deviceId: run.job.device },
    );
    const ctx: RunnerContext = {
      job: run.job,
      path: run.path,
      commit: run.commit,
      commitTimeoutS: run.commitTimeoutS,
      expectedFwId: () =>
        run.job.firmware === '' ? undefined : this.learnedFwId(run.job.firmware),
      rebootWindowMs: this.d.limits.rebootWindowMs,
      signal: run.abort.signal,
      writeGate: this.writeGate,
      call: (method, params, timeoutMs) =>
        this.d.devices.call(run.job.device, method, params, timeoutMs),
      armComeBack: (ms) => this.comeBack(run.job.device, ms, run.abort.signal, true),
      update: (patch) => {
        if (run.finished) return;
        if (this.stopped && patch.state !== undefined && isFinalOtaState(patch.state)) return;
        if (patch.state !== undefined && isFinalOtaState(patch.state)) {
          this.finish(run, patch);
          return;
        }
        Object.assign(run.job, patch);
        // The transfer slot is for sending only: a device rebooting holds none.
        if (patch.state === 'rebooting') releaseSlot();
        if (patch.state !== undefined) this.changed(run);
      },
      progress: (bytes) => {
        run.job.bytes = bytes;
        this.emitProgress(run);
      },
      installed: (fwId) => {
        if (run.job.firmware === '') return;
        try {
          this.d.library.recordInstall(run.job.device, run.job.firmware, fwId);
        } catch (err) {
          this.d.log.warn({ err, job: run.job.id }, 'could not record the install');
        }
      },
      onReader: (r) => {
        run.reader = r;
      },
    };
    try {
      await runOtaJob(ctx);
    } catch (err) {
      if (!this.stopped) this.finish(run, { state: 'failed', error: jobErrorOf(err) });
    } finally {
      releaseSlot();
      run.unsubscribe?.();
      if (run.loose) await rm(run.loose.path, { force: true }).catch(() => undefined);
      if (this.stopped) this.active.delete(run.job.id);
    }
  }

  private learnedFwId(firmwareId: string): string | undefined {
    try {
      return this.d.library.get(firmwareId).fw_id;
    } catch {
      return undefined;
    }
  }

  /** Re-verifies a rollout's job the hub stopped during (recover()). */
  private reverify(stored: OtaJob): void {
    const run: Running = {
      job: { ...stored, state: 'verifying' },
      abort: new AbortController(),
      path: '',
      commit: false,
      commitTimeoutS: this.d.limits.commitTimeoutS,
      throttle: new ProgressThrottle(this.d.limits.progressIntervalMs),
      devicePercent: null,
    };
    this.active.set(run.job.id, run);
    this.byDevice.set(run.job.device, run.job.id);
    this.changed(run);
    const ctx: RunnerContext = {
      job: run.job,
      path: '',
      commit: false,
      commitTimeoutS: run.commitTimeoutS,
      expectedFwId: () => this.learnedFwId(run.job.firmware),
      rebootWindowMs: this.d.limits.rebootWindowMs,
      signal: run.abort.signal,
      call: (method, params) => this.d.devices.call(run.job.device, method, params),
      armComeBack: (ms) => this.comeBack(run.job.device, ms, run.abort.signal),
      update: (patch) => {
        if (this.stopped) return;
        if (patch.state !== undefined && isFinalOtaState(patch.state)) this.finish(run, patch);
        else Object.assign(run.job, patch);
      },
      progress: () => undefined,
      installed: (fwId) => {
        if (run.job.firmware !== '') {
          this.d.library.recordInstall(run.job.device, run.job.firmware, fwId);
        }
      },
    };
    const back = this.comeBack(run.job.device, this.d.limits.rebootWindowMs, run.abort.signal);
    const p = verify(ctx, back, run.job.family)
      .catch((err: unknown) => {
        if (!this.stopped) this.finish(run, { state: 'failed', error: jobErrorOf(err) });
      })
      .finally(() => this.runs.delete(p));
    this.runs.add(p);
  }

  /**
   * Resolves with the device's next stored Sys.GetInfo (it came back), or null after `windowMs`
   * or when `signal` aborts (hub stop). With `afterReboot`, only a Sys.GetInfo of a session that
   * began after the device went offline counts: the one of the session the update ran in may be
   * stored late (its step 3 commits while the transfer already runs, after a hub restart say),
   * and it reports the old firmware, which read as a rollback.
   */
  private comeBack(
    device: string,
    windowMs: number,
    signal?: AbortSignal,
    afterReboot = false,
  ): ComeBack {
    let cancel = (): void => undefined;
    const info = new Promise<JsonObject | null>((resolve) => {
      let wentOffline = !afterReboot;
      const offBus = afterReboot
        ? this.d.bus.subscribe(
            (p) => {
              if (p.n.name === 'offline') wentOffline = true;
            },
            { deviceId: device },
          )
        : () => undefined;
      const off = this.d.devices.onInfoStored((id, value) => {
        if (id !== device || !wentOffline) return;
        done(value);
      });
      const timer = setTimeout(() => done(null), windowMs);
      const onAbort = (): void => done(null);
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = (v: JsonObject | null): void => {
        off();
        offBus();
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(v);
      };
      cancel = () => done(null);
    });
    return { info, cancel: () => cancel() };
  }

  private devicePercent(run: Running, percent: number | null): void {
    if (run.job.state === 'sending') run.devicePercent = percent;
  }

  private emitProgress(run: Running): void {
    const { job } = run;
    const done = job.bytes >= job.total;
    // The device's own count where it reports one (Arduino), except at the end: a firmware that
    // sent its last State.Set after the reply must not leave the job at 99%.
    const percent =
      job.family !== 'mos' && run.devicePercent !== null && !done
        ? Math.min(100, run.devicePercent)
        : percentOf(job.bytes, job.total);
    if (!run.throttle.shouldEmit(percent, done, performance.now())) return;
    const data: OtaProgress = { job: job.id, percent, bytes: job.bytes, total: job.total };
    this.d.bus.publish({ name: 'ota.progress', id: job.device, data: data as unknown as Json });
  }

  private finish(run: Running, patch: Partial<OtaJob>): void {
    if (run.finished) return;
    run.finished = true;
    Object.assign(run.job, patch, { ended: this.now() });
    this.active.delete(run.job.id);
    if (this.byDevice.get(run.job.device) === run.job.id) this.byDevice.delete(run.job.device);
    this.changed(run);
    const waiters = this.waiters.get(run.job.id) ?? [];
    this.waiters.delete(run.job.id);
    for (const w of waiters) w({ ...run.job });
  }

  /** A state change: stored, then mirrored as `ota.state`, then told to listeners. */
  private changed(run: Running): void {
    // A new object each time: copies of the job handed out earlier keep what they showed.
    if (run.job.timeline?.[run.job.state] === undefined) {
      run.job.timeline = { ...run.job.timeline, [run.job.state]: Date.now() };
    }
    this.d.repo.save(run.job);
    this.publishState(run.job);
  }

  private publishState(job: OtaJob): void {
    this.d.bus.publish({ name: 'ota.state', id: job.device, data: { ...job } as unknown as Json });
    for (const l of this.listeners) {
      try {
        l({ ...job });
      } catch (err) {
        this.d.log.warn({ err, job: job.id }, 'OTA listener failed');
      }
    }
  }
}

function reportedOta(reported: JsonObject): JsonObject {
  const ota = reported['ota'];
  return isJsonObject(ota) ? ota : {};
}

/** `State.Set {"ota":{"percent":n|null}}` -> n, null, or undefined when it is something else. */
export function statePercent(params: Json): number | null | undefined {
  if (!isJsonObject(params)) return undefined;
  const ota = params['ota'];
  if (!isJsonObject(ota) || !('percent' in ota)) return undefined;
  const p = ota['percent'];
  if (p === null) return null;
  return typeof p === 'number' && Number.isFinite(p) ? p : undefined;
}

function toBootState(raw: Json): OtaBootState {
  const o = isJsonObject(raw) ? raw : {};
  const num = (k: string): number => (typeof o[k] === 'number' ? o[k] : 0);
  return {
    active_slot: num('active_slot'),
    is_committed: o['is_committed'] === true,
    revert_slot: num('revert_slot'),
    commit_timeout: num('commit_timeout'),
  };
}

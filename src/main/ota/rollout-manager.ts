/**
 * Staged fleet rollouts (issue 8, PROTOCOL.md 9): the I/O half around the pure planner
 * (rollout-plan.ts) and engine (rollout-engine.ts). It plans a rollout over the registry, feeds
 * the engine the events that matter (OTA job changes, devices going online/offline, their
 * reported fw_id, devices created or relabelled), applies what `decide()` returns (start jobs
 * through the OTA manager, commit Mongoose OS images after the health window, pause, complete),
 * stores every change (rollouts-repo.ts) and publishes `rollout.state` / `rollout.device`.
 */
import { HubError } from '../../shared/errors';
import type {
  OtaJob,
  OtaJobError,
  RollbackGap,
  Rollout,
  RolloutDevice,
  RolloutPreview,
} from '../../shared/ota';
import type { Json, Notification } from '../../shared/types';
import type { RolloutLimits } from '../config';
import type { DeviceService } from '../devices/device-service';
import type { NotificationBus } from '../events/notification-bus';
import type { FirmwareLibrary } from '../firmware/firmware-library';
import type { RolloutsRepo } from '../store/rollouts-repo';
import { randomId } from '../store/secrets';
import type { OtaManagerApi } from './ota-manager';
import {
  applyFwId,
  applyJob,
  applyOffline,
  applyRecheck,
  countDevices,
  decide,
  fail,
  isFailed,
  isUpdating,
  markInterrupted,
  retryDevice,
  waveView,
  type EngineDevice,
  type EngineRollout,
  type RolloutAction,
} from './rollout-engine';
import {
  amountProblem,
  inTarget,
  labelsOfTags,
  planRollout,
  resolveAmount,
  splitLabels,
  type Amount,
  type DeviceFacts,
  type RolloutSpec,
} from './rollout-plan';

/** The create / preview request after schema validation (api/rollout-routes.ts). */
export interface RolloutRequest {
  firmware: string;
  devices?: string[];
  labels?: string;
  waves?: Amount[];
  max_failures?: Amount;
  health_s?: number;
  concurrency?: number;
  skip_current?: boolean;
  offline?: 'wait' | 'skip';
  wave_success?: Amount;
}

export const ROLLOUT_DEFAULTS = {
  waves: ['100%'] as Amount[],
  max_failures: '10%' as Amount,
  health_s: 60,
  concurrency: 10,
  skip_current: true,
  offline: 'wait' as const,
};

export interface RolloutManagerDeps {
  devices: Pick<DeviceService, 'list' | 'find' | 'isOnline' | 'call' | 'onInfoStored'>;
  bus: NotificationBus;
  ota: Pick<OtaManagerApi, 'start' | 'get' | 'cancel' | 'onChange'>;
  library: Pick<FirmwareLibrary, 'get' | 'findByFwId' | 'installedOn' | 'setInUseCheck'>;
  repo: RolloutsRepo;
  limits: RolloutLimits;
  /** `ota.commitTimeoutS`: a Mongoose OS image not committed by then reverts by itself. */
  commitTimeoutS: number;
  log: { warn(obj: object, msg: string): void };
  /** ms since the epoch (tests move it). */
  now?: () => number;
}

interface Live {
  r: EngineRollout;
  devices: Map<string, EngineDevice>;
}

/** How long a device whose re-verification call failed is left alone before the next try. */
const RECHECK_COOLDOWN_MS = 2000;

const ACTIVE = (r: EngineRollout): boolean => r.state === 'running' || r.state === 'paused';

export class RolloutManager {
  private readonly live = new Map<string, Live>();
  /** `${rollout}\0${device}` with an async step in flight (commit, re-verify). */
  private readonly busy = new Set<string>();
  private readonly cooldown = new Map<string, number>();
  private readonly dirty = new Set<string>();
  private flushScheduled = false;
  private readonly timer: NodeJS.Timeout;
  private readonly unsubscribe: (() => void)[] = [];
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly d: RolloutManagerDeps) {
    this.now = d.now ?? Date.now;
    for (const { rollout, devices } of d.repo.loadAll()) {
      this.live.set(rollout.id, { r: rollout, devices: new Map(devices.map((x) => [x.id, x])) });
    }
    this.unsubscribe.push(
      d.ota.onChange((job) => this.onJob(job)),
      d.bus.subscribe((p) => this.onNotification(p.n)),
      d.devices.onInfoStored((id, info) => {
        const fwId = info['fw_id'];
        if (typeof fwId === 'string') this.onFwId(id, fwId);
      }),
    );
    d.library.setInUseCheck((id) => this.isInUse(id));
    this.recover();
    this.timer = setInterval(() => this.tickAll(), d.limits.tickMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    for (const u of this.unsubscribe) u();
  }

  // ---- queries --------------------------------------------------------------------------

  list(): Rollout[] {
    return [...this.live.values()].map((l) => this.toWire(l, false));
  }

  get(id: string): Rollout {
    return this.toWire(this.liveOf(id), true);
  }

  /** True while a running or paused rollout sends this firmware (firmware delete: 409). */
  isInUse(firmwareId: string): boolean {
    for (const { r, devices } of this.live.values()) {
      if (!ACTIVE(r)) continue;
      if (r.spec.firmware === firmwareId) return true;
      for (const dev of devices.values()) if (dev.firmware === firmwareId) return true;
    }
    return false;
  }

  preview(req: RolloutRequest): RolloutPreview {
    const spec = this.specOf(req);
    const plan = planRollout(spec, this.facts(spec.firmware, new Map()));
    this.checkPlan(spec, plan.missing, plan.devices.length);
    const total = plan.waves.reduce((a, b) => a + b, 0);
    return {
      waves: plan.waves,
      total,
      skipped: plan.skipped,
      offline_waiting: plan.offline_waiting,
      max_failures: resolveAmount(spec.max_failures, total),
    };
  }

  // ---- create ---------------------------------------------------------------------------

  create(req: RolloutRequest): Rollout {
    return this.createFrom(this.specOf(req), new Map());
  }

  /** `overrides`: per-device firmware (rollback rollouts). */
  private createFrom(spec: RolloutSpec, overrides: Map<string, string>): Rollout {
    const plan = planRollout(spec, this.facts(spec.firmware, overrides));
    this.checkPlan(spec, plan.missing, plan.devices.length);
    const r: EngineRollout = {
      id: randomId('ro', 10),
      spec,
      state: 'running',
      started: 0,
      waves: plan.waves.length,
      created: Math.floor(this.now() / 1000),
      ended: null,
    };
    const devices = plan.devices.map((p): EngineDevice => {
      const dev: EngineDevice = { id: p.id, wave: p.wave, state: p.state, attempts: 0 };
      const fw = overrides.get(p.id);
      if (fw !== undefined && fw !== spec.firmware) dev.firmware = fw;
      if (p.skip === 'current')
        dev.error = { code: 'conflict', message: 'already runs this firmware' };
      if (p.skip === 'offline') {
        dev.error = { code: 'device_offline', message: 'offline when the rollout was created' };
      }
      return dev;
    });
    this.d.repo.create(r, devices);
    const l: Live = { r, devices: new Map(devices.map((x) => [x.id, x])) };
    this.live.set(r.id, l);
    this.publishState(l);
    this.run(r.id);
    return this.toWire(l, false);
  }

  private specOf(req: RolloutRequest): RolloutSpec {
    const spec: RolloutSpec = {
      firmware: req.firmware,
      devices: req.devices ?? [],
      labels: splitLabels(req.labels).join(','),
      waves: req.waves ?? ROLLOUT_DEFAULTS.waves,
      max_failures: req.max_failures ?? ROLLOUT_DEFAULTS.max_failures,
      health_s: req.health_s ?? ROLLOUT_DEFAULTS.health_s,
      concurrency: req.concurrency ?? ROLLOUT_DEFAULTS.concurrency,
      skip_current: req.skip_current ?? ROLLOUT_DEFAULTS.skip_current,
      offline: req.offline ?? ROLLOUT_DEFAULTS.offline,
      ...(req.wave_success !== undefined && { wave_success: req.wave_success }),
    };
    const bad = (msg: string): never => {
      throw new HubError('validation_failed', msg);
    };
    if (spec.devices.length === 0 && spec.labels === '') {
      bad('give the target: devices (ids) and/or labels');
    }
    const amounts: [string, Amount | undefined][] = [
      ...spec.waves.map((w, i): [string, Amount] => [`waves/${i}`, w]),
      ['max_failures', spec.max_failures],
      ['wave_success', spec.wave_success],
    ];
    for (const [field, a] of amounts) {
      const problem = a === undefined ? null : amountProblem(a);
      if (problem !== null) bad(`${field}: ${problem}`);
    }
    const { limits } = this.d;
    if (spec.waves.length === 0 || spec.waves.length > limits.maxWaves) {
      bad(`waves: give 1 to ${limits.maxWaves} waves`);
    }
    if (spec.concurrency > limits.maxConcurrency) {
      bad(`concurrency: at most ${limits.maxConcurrency} (rollouts.maxConcurrency)`);
    }
    const maxHealth = Math.min(limits.maxHealthS, this.d.commitTimeoutS - 1);
    if (spec.health_s > maxHealth) {
      bad(
        `health_s: at most ${maxHealth} s (rollouts.maxHealthS, and below ota.commitTimeoutS ` +
          `${this.d.commitTimeoutS} s: Mongoose OS reverts an image not committed by then)`,
      );
    }
    this.d.library.get(spec.firmware);
    return spec;
  }

  private checkPlan(spec: RolloutSpec, missing: string[], targeted: number): void {
    if (missing.length > 0) {
      throw new HubError('device_not_found', `no device '${missing.slice(0, 5).join("', '")}'`);
    }
    if (targeted === 0) {
      throw new HubError('validation_failed', `no device matches labels '${spec.labels}'`);
    }
    if (targeted > this.d.limits.maxDevices) {
      throw new HubError(
        'validation_failed',
        `the target holds ${targeted} devices, more than rollouts.maxDevices (${this.d.limits.maxDevices})`,
      );
    }
  }

  private facts(firmware: string, overrides: Map<string, string>): DeviceFacts[] {
    return this.d.devices.list().map((dev) => ({
      id: dev.id,
      online: dev.online,
      labels: labelsOfTags(dev.shadow.tags),
      current: this.reportsFirmware(overrides.get(dev.id) ?? firmware, reportedFwId(dev.shadow)),
    }));
  }

  /** Whether a device reporting `fwId` runs library firmware `firmwareId` (PROTOCOL.md 6). */
  private reportsFirmware(firmwareId: string, fwId: string | undefined): boolean {
    if (fwId === undefined || fwId === '') return false;
    let fw;
    try {
      fw = this.d.library.get(firmwareId);
    } catch {
      return false;
    }
    if (fw.fw_id !== undefined) return fw.fw_id === fwId;
    return this.d.library.findByFwId(fwId)?.id === firmwareId;
  }

  // ---- controls -------------------------------------------------------------------------

  pause(id: string): Rollout {
    const l = this.liveOf(id);
    this.expectState(l, ['running'], 'pause');
    this.setState(l, 'paused', 'paused by the user');
    return this.toWire(l, false);
  }

  resume(id: string): Rollout {
    const l = this.liveOf(id);
    this.expectState(l, ['paused'], 'resume');
    l.r.acknowledged_failures = [...l.devices.values()].filter((x) => isFailed(x.state)).length;
    if (l.r.started > 0) l.r.accepted_wave = l.r.started - 1;
    this.setState(l, 'running');
    this.run(id);
    return this.toWire(l, false);
  }

  /** Failed devices back to pending, and the rollout runs again. */
  retry(id: string): Rollout {
    const l = this.liveOf(id);
    this.expectState(l, ['running', 'paused', 'completed'], 'retry');
    for (const dev of [...l.devices.values()]) {
      const next = retryDevice(dev);
      if (next) this.putDevice(l, next);
    }
    l.r.acknowledged_failures = 0;
    l.r.ended = null;
    this.setState(l, 'running');
    this.run(id);
    return this.toWire(l, false);
  }

  /**
   * Stops the rollout: queued and sending jobs are cancelled (a device already rebooting finishes
   * and its outcome is still recorded); devices in their health window count as done but are not
   * committed (Mongoose OS reverts them at the commit timeout).
   */
  abort(id: string): Rollout {
    const l = this.liveOf(id);
    this.expectState(l, ['running', 'paused'], 'abort');
    this.setState(l, 'aborted', 'aborted by the user');
    for (const dev of [...l.devices.values()]) {
      if (dev.state === 'verifying' && dev.health_until !== undefined) {
        const next: EngineDevice = { ...dev, state: 'done' };
        delete next.health_until;
        this.putDevice(l, next);
      } else if (isUpdating(dev.state) && dev.job !== undefined && dev.recheck !== true) {
        try {
          this.d.ota.cancel(dev.job);
        } catch {
          // Past sending: the update runs to its end and onJob records it.
        }
      }
    }
    return this.toWire(l, false);
  }

  /**
   * A rollout of its own that sends each device that took this rollout's firmware what it ran
   * before (the library's per-device install history, else the firmware matching the fw_id it
   * reported before the update). Devices with no known previous firmware are listed in
   * `unavailable`.
   */
  rollback(id: string): Rollout {
    const l = this.liveOf(id);
    this.expectState(l, ['aborted', 'completed', 'paused'], 'roll back');
    const overrides = new Map<string, string>();
    const unavailable: RollbackGap[] = [];
    for (const dev of l.devices.values()) {
      const took = dev.state === 'done' || (dev.state === 'verifying' && dev.to_fw !== undefined);
      if (!took) continue;
      const prev = this.previousFirmware(dev, dev.firmware ?? l.r.spec.firmware);
      if (typeof prev === 'string') overrides.set(dev.id, prev);
      else unavailable.push({ id: dev.id, reason: prev.reason });
    }
    if (overrides.size === 0) {
      throw new HubError(
        'rollout_state',
        unavailable.length === 0
          ? `no device of rollout '${id}' took its firmware: nothing to roll back`
          : `no device of rollout '${id}' has a known previous firmware`,
        { unavailable },
      );
    }
    if (l.r.state === 'paused') this.abort(id);
    const tally = new Map<string, number>();
    for (const fw of overrides.values()) tally.set(fw, (tally.get(fw) ?? 0) + 1);
    const firmware = [...tally.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
    const created = this.createFrom(
      {
        firmware,
        devices: [...overrides.keys()],
        labels: '',
        waves: ['100%'],
        // A rollback must not stop half-way: failures are reported, never pause it.
        max_failures: '100%',
        health_s: l.r.spec.health_s,
        concurrency: l.r.spec.concurrency,
        skip_current: true,
        offline: 'wait',
        rollback_of: id,
      },
      overrides,
    );
    return { ...created, unavailable };
  }

  private previousFirmware(dev: EngineDevice, sent: string): string | { reason: string } {
    const history = this.d.library.installedOn(dev.id);
    let i = history.length - 1;
    while (i >= 0 && history[i]?.firmware !== sent) i--;
    for (let j = i - 1; j >= 0; j--) {
      const fw = history[j]?.firmware;
      if (fw !== null && fw !== undefined && fw !== sent && this.exists(fw)) return fw;
    }
    if (dev.from_fw !== undefined && dev.from_fw !== '') {
      const byId = this.d.library.findByFwId(dev.from_fw);
      if (byId && byId.id !== sent) return byId.id;
      return { reason: `the library holds no firmware that reports fw_id ${dev.from_fw}` };
    }
    return { reason: 'no earlier firmware of this device is known to the library' };
  }

  private exists(firmwareId: string): boolean {
    try {
      this.d.library.get(firmwareId);
      return true;
    } catch {
      return false;
    }
  }

  // ---- events ---------------------------------------------------------------------------

  private onJob(job: OtaJob): void {
    if (job.rollout === undefined) return;
    const l = this.live.get(job.rollout);
    const dev = l?.devices.get(job.device);
    if (!l || !dev) return;
    let next = applyJob(dev, job, this.now(), l.r.spec.health_s);
    if (!next) return;
    if (l.r.state === 'aborted' && next.state === 'verifying') {
      next = { ...next, state: 'done' };
      delete next.health_until;
    }
    this.putDevice(l, next);
    this.run(l.r.id);
  }

  private onNotification(n: Notification): void {
    if (this.stopped) return;
    switch (n.name) {
      case 'offline':
        return this.forDevice(n.id, (l, dev) => applyOffline(dev) ?? undefined);
      case 'online':
        // A device skipped for being offline joins again (dynamic rollout); others may start.
        return this.forDevice(n.id, (l, dev) => {
          if (dev.state !== 'skipped' || dev.error?.code !== 'device_offline') return undefined;
          const back: EngineDevice = { ...dev, state: 'pending', wave: currentWave(l.r) };
          delete back.error;
          return back;
        });
      case 'created':
      case 'updated':
        return this.maybeJoin(n.id, n.data);
      case 'deleted':
        return this.forDevice(n.id, (l, dev) =>
          dev.state === 'pending'
            ? { ...dev, state: 'skipped', error: { code: 'device_not_found', message: 'deleted' } }
            : undefined,
        );
      default:
        return;
    }
  }

  private onFwId(id: string, fwId: string): void {
    this.forDevice(id, (l, dev) => applyFwId(dev, fwId) ?? undefined);
  }

  /** Runs `change` on the device in every active rollout that holds it. */
  private forDevice(
    id: string,
    change: (l: Live, dev: EngineDevice) => EngineDevice | undefined,
  ): void {
    for (const l of this.live.values()) {
      if (!ACTIVE(l.r)) continue;
      const dev = l.devices.get(id);
      if (!dev) continue;
      const next = change(l, dev);
      if (next) this.putDevice(l, next);
      this.run(l.r.id);
    }
  }

  /** A new or relabelled device that matches an active rollout's labels joins its current wave. */
  private maybeJoin(id: string, data: Json): void {
    let facts: (DeviceFacts & { fwId?: string }) | undefined;
    for (const l of this.live.values()) {
      if (!ACTIVE(l.r) || l.r.spec.labels === '' || l.devices.has(id)) continue;
      facts ??= this.factsOf(id, data);
      if (!facts || !inTarget({ devices: [], labels: l.r.spec.labels }, facts)) continue;
      if (l.devices.size >= this.d.limits.maxDevices) continue;
      const dev: EngineDevice = { id, wave: currentWave(l.r), state: 'pending', attempts: 0 };
      if (l.r.spec.skip_current && this.reportsFirmware(l.r.spec.firmware, facts.fwId)) {
        dev.state = 'skipped';
        dev.error = { code: 'conflict', message: 'already runs this firmware' };
      }
      this.putDevice(l, dev);
      this.run(l.r.id);
    }
  }

  private factsOf(id: string, data: Json): (DeviceFacts & { fwId?: string }) | undefined {
    const dev = typeof data === 'object' && data !== null && !Array.isArray(data) ? data : null;
    const shadow = dev?.['shadow'];
    if (typeof shadow !== 'object' || shadow === null || Array.isArray(shadow)) return undefined;
    const fwId = reportedFwId(shadow);
    return {
      id,
      online: this.d.devices.isOnline(id),
      labels: labelsOfTags(shadow['tags']),
      current: false,
      ...(fwId !== undefined && { fwId }),
    };
  }

  // ---- running --------------------------------------------------------------------------

  /** Re-evaluates a rollout soon (coalesced: many events in one turn cost one decide()). */
  private run(id: string): void {
    if (this.stopped) return;
    this.dirty.add(id);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const ids = [...this.dirty];
      this.dirty.clear();
      for (const rid of ids) this.step(rid);
    });
  }

  private tickAll(): void {
    for (const l of this.live.values()) if (ACTIVE(l.r)) this.run(l.r.id);
  }

  private step(id: string): void {
    const l = this.live.get(id);
    if (!l || this.stopped) return;
    const now = this.now();
    const actions = decide(l.r, [...l.devices.values()], {
      now,
      online: (dev) => this.d.devices.isOnline(dev),
      current: (dev) =>
        this.reportsFirmware(
          dev.firmware ?? l.r.spec.firmware,
          reportedFwId(this.d.devices.find(dev.id)?.shadow),
        ),
      busy: (dev) => this.busy.has(key(id, dev)) || (this.cooldown.get(key(id, dev)) ?? 0) > now,
    });
    let waveStarted = false;
    for (const a of actions) {
      if (a.kind === 'start_wave') {
        l.r.started = Math.max(l.r.started, a.wave + 1);
        waveStarted = true;
      } else {
        this.apply(l, a);
      }
    }
    if (waveStarted) {
      this.d.repo.saveRollout(l.r);
      this.publishState(l);
    }
  }

  private apply(l: Live, a: Exclude<RolloutAction, { kind: 'start_wave' }>): void {
    const dev = 'id' in a ? l.devices.get(a.id) : undefined;
    switch (a.kind) {
      case 'pause':
        return this.setState(l, 'paused', a.reason);
      case 'complete':
        return this.setState(l, 'completed');
      case 'skip':
        if (dev) this.putDevice(l, { ...dev, state: 'skipped', error: a.error });
        return;
      case 'start':
        if (dev) this.startJob(l, dev);
        return;
      case 'healthy':
        if (dev) this.finishHealth(l, dev);
        return;
      case 'recheck':
        if (dev) this.recheck(l, dev);
        return;
    }
  }

  private startJob(l: Live, dev: EngineDevice): void {
    const attempts = dev.attempts + 1;
    try {
      const job = this.d.ota.start({
        device: dev.id,
        firmware: dev.firmware ?? l.r.spec.firmware,
        // The rollout commits Mongoose OS images itself, after the health window.
        commit: false,
        rollout: l.r.id,
      });
      const next: EngineDevice = { ...dev, state: job.state, job: job.id, attempts };
      delete next.error;
      this.putDevice(l, next);
      // A job may end at once (start refused inside the manager): mirror it.
      if (job.state !== 'queued') this.onJob(job);
    } catch (err) {
      const error = errorOf(err);
      // Went offline between decide() and now: it stays pending (offline policy applies).
      if (error.code === 'device_offline') return;
      this.putDevice(l, { ...fail(dev, error.code, error.message), attempts });
    }
  }

  /** The health window passed: Mongoose OS images are committed now, then the device is done. */
  private finishHealth(l: Live, dev: EngineDevice): void {
    const done = (): void => {
      const current = l.devices.get(dev.id);
      if (!current || current.state !== 'verifying') return;
      const next: EngineDevice = { ...current, state: 'done' };
      delete next.health_until;
      delete next.commit;
      this.putDevice(l, next);
    };
    if (dev.commit !== true) {
      done();
      return;
    }
    const k = key(l.r.id, dev.id);
    this.busy.add(k);
    this.d.devices
      .call(dev.id, 'OTA.Commit', {}, this.d.limits.callTimeoutMs)
      .then(done, (err: unknown) => {
        // The Arduino mDash library has no commit step: "method not found" = committed (PROTOCOL.md 6).
        if (String((err as Error).message).includes('-32601')) return done();
        const current = l.devices.get(dev.id);
        if (current?.state !== 'verifying') return;
        const e = errorOf(err);
        this.putDevice(l, fail(current, 'health_check_failed', `OTA.Commit failed: ${e.message}`));
      })
      .finally(() => {
        this.busy.delete(k);
        this.run(l.r.id);
      });
  }

  /** An update the hub's restart interrupted: where is the device now? (Sys.GetInfo) */
  private recheck(l: Live, dev: EngineDevice): void {
    const k = key(l.r.id, dev.id);
    this.busy.add(k);
    this.d.devices
      .call(dev.id, 'Sys.GetInfo', {}, this.d.limits.callTimeoutMs)
      .then(
        (info) => {
          const fwId =
            typeof info === 'object' && info !== null && !Array.isArray(info)
              ? info['fw_id']
              : undefined;
          const current = l.devices.get(dev.id);
          if (typeof fwId !== 'string' || current?.recheck !== true) return;
          const sent = current.firmware ?? l.r.spec.firmware;
          const onNew =
            this.reportsFirmware(sent, fwId) ||
            (current.from_fw !== undefined && current.from_fw !== '' && fwId !== current.from_fw);
          this.putDevice(
            l,
            applyRecheck(
              current,
              fwId,
              onNew,
              this.now(),
              l.r.spec.health_s,
              this.d.limits.maxAttempts,
            ),
          );
        },
        () => this.cooldown.set(k, this.now() + RECHECK_COOLDOWN_MS),
      )
      .finally(() => {
        this.busy.delete(k);
        this.run(l.r.id);
      });
  }

  /**
   * After a restart: devices that were mid-update follow their job if the OTA manager still
   * runs it (it re-verifies rebooting ones), take its outcome if it ended, and are otherwise
   * re-verified by their fw_id once online. Health windows start over (the restart cut them).
   */
  private recover(): void {
    for (const l of this.live.values()) {
      if (!ACTIVE(l.r)) continue;
      for (const dev of [...l.devices.values()]) {
        if (!isUpdating(dev.state) || dev.recheck === true) continue;
        if (dev.health_until !== undefined || dev.job === undefined) {
          const next = markInterrupted(dev);
          if (next) this.putDevice(l, next, false);
          continue;
        }
        let job: OtaJob | undefined;
        try {
          job = this.d.ota.get(dev.job);
        } catch {
          job = undefined;
        }
        if (job && !['done', 'failed', 'rolled_back', 'cancelled'].includes(job.state)) continue;
        if (!job || job.error?.code === 'ota_interrupted') {
          const next = markInterrupted(dev);
          if (next) this.putDevice(l, next, false);
          continue;
        }
        const next = applyJob(dev, job, this.now(), l.r.spec.health_s);
        if (next) this.putDevice(l, next, false);
      }
      this.run(l.r.id);
    }
  }

  // ---- state, storage, notifications ----------------------------------------------------

  private putDevice(l: Live, next: EngineDevice, publish = true): void {
    const prev = l.devices.get(next.id);
    const seq = prev ? [...l.devices.keys()].indexOf(next.id) : l.devices.size;
    l.devices.set(next.id, next);
    this.d.repo.saveDevice(l.r.id, next, seq);
    if (!publish) return;
    if (prev && prev.state === next.state && prev.error?.message === next.error?.message) return;
    this.d.bus.publish({
      name: 'rollout.device',
      id: next.id,
      data: {
        rollout: l.r.id,
        id: next.id,
        state: next.state,
        ...(next.error !== undefined && { error: { ...next.error } }),
      },
    });
  }

  private setState(l: Live, state: EngineRollout['state'], reason?: string): void {
    l.r.state = state;
    if (reason !== undefined) l.r.reason = reason;
    else delete l.r.reason;
    l.r.ended = state === 'completed' || state === 'aborted' ? Math.floor(this.now() / 1000) : null;
    this.d.repo.saveRollout(l.r);
    this.publishState(l);
  }

  private publishState(l: Live): void {
    this.d.bus.publish({
      name: 'rollout.state',
      id: l.r.id,
      data: this.toWire(l, false) as unknown as Json,
    });
  }

  private expectState(l: Live, allowed: EngineRollout['state'][], what: string): void {
    if (!allowed.includes(l.r.state)) {
      throw new HubError(
        'rollout_state',
        `cannot ${what} rollout '${l.r.id}': it is ${l.r.state} (allowed when ${allowed.join(' or ')})`,
      );
    }
  }

  private liveOf(id: string): Live {
    const l = this.live.get(id);
    if (!l) throw new HubError('rollout_not_found', `no rollout '${id}'`);
    return l;
  }

  private toWire(l: Live, withDevices: boolean): Rollout {
    const devices = [...l.devices.values()];
    const { spec, ...r } = l.r;
    const out: Rollout = {
      id: r.id,
      firmware: spec.firmware,
      state: r.state,
      waves: waveView(l.r, devices),
      counts: countDevices(devices),
      created: r.created,
      ended: r.ended,
      current_wave: r.started,
      options: {
        devices: spec.devices,
        labels: spec.labels,
        waves: spec.waves,
        max_failures: spec.max_failures,
        health_s: spec.health_s,
        concurrency: spec.concurrency,
        skip_current: spec.skip_current,
        offline: spec.offline,
        ...(spec.wave_success !== undefined && { wave_success: spec.wave_success }),
      },
      ...(r.reason !== undefined && { reason: r.reason }),
      ...(spec.rollback_of !== undefined && { rollback_of: spec.rollback_of }),
    };
    if (withDevices) out.devices = devices.map(wireDevice);
    return out;
  }
}

function wireDevice(d: EngineDevice): RolloutDevice {
  return {
    id: d.id,
    state: d.state,
    wave: d.wave,
    attempts: d.attempts,
    ...(d.job !== undefined && { job: d.job }),
    ...(d.error !== undefined && { error: d.error }),
    ...(d.firmware !== undefined && { firmware: d.firmware }),
    ...(d.from_fw !== undefined && { from_fw: d.from_fw }),
    ...(d.to_fw !== undefined && { to_fw: d.to_fw }),
    ...(d.health_until !== undefined && { health_until: Math.ceil(d.health_until / 1000) }),
  };
}

const key = (rollout: string, device: string): string => `${rollout}\u0000${device}`;

/** Dynamic joins go into the wave that runs now (the first one before any started). */
const currentWave = (r: EngineRollout): number => Math.max(0, Math.min(r.started, r.waves) - 1);

function reportedFwId(shadow: unknown): string | undefined {
  const state = (shadow as { state?: { reported?: { ota?: { fw_id?: unknown } } } } | undefined)
    ?.state;
  const fwId = state?.reported?.ota?.fw_id;
  return typeof fwId === 'string' ? fwId : undefined;
}

function errorOf(err: unknown): OtaJobError {
  if (err instanceof HubError) return { code: err.kind, message: err.message };
  return { code: 'internal', message: err instanceof Error ? err.message : String(err) };
}

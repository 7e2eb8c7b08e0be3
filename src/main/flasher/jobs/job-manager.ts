/**
 * Flash jobs (issue: "one owner per port", "flashing runs off the hub's event loop", "a progress
 * stream of typed states"). A job leases its port when it is submitted, so a second user of the
 * port is refused at once with `port_busy` naming the owner, waits for a free slot (bounded
 * concurrency), flashes in its own process (worker-host.ts), optionally provisions the board into
 * the hub, and always ends in `done`, `failed{code,message,hint}` or `cancelled` with the lease
 * released (DESIGN.md example 3: cleanup in `finally`).
 *
 * Every state goes out through the `state` event; job-notifications.ts mirrors them as `flash.*`
 * notifications. Finished jobs are kept in memory (the last `keepFinished`) as metadata only: a
 * job lets go of its request (image bytes, Wi-Fi credentials) when it ends, so 100 kept jobs of
 * 64 MB images cost kilobytes, not 6 GB (issue 7 item 20).
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { statSync } from 'node:fs';
import { HubError } from '../../../shared/errors';
import {
  FlashError,
  type ChipInfo,
  type FlashState,
  type FlashStateName,
} from '../../../shared/flash-state';
import { runProvisioning, type HubProvisioning } from '../provision/provision-flow';
import type { PortLease, PortOwnerKind, PortRegistry } from '../serial/port-registry';
import {
  checkFlashOptions,
  type FlashFile,
  checkFlashRequest,
  type FlashKind,
  type FlashRequest,
  type ProvisionSpec,
} from './flash-request';
import type { FlashOutcome } from './flash-runner';
import { toJobError } from './job-errors';
import { runFlashInWorker, type WorkerRunOptions } from './worker-host';

export const DEFAULT_CONCURRENCY = 4;
export const DEFAULT_KEEP_FINISHED = 100;
/** Transitions kept per job (progress updates are not transitions). */
const MAX_HISTORY = 100;
/** Log lines kept per job. */
const MAX_LOG_LINES = 500;

export interface JobSpec {
  request: FlashRequest;
  provision?: ProvisionSpec;
  /** Who the port lease is for; default 'flash' with the job id. */
  owner?: { kind: Extract<PortOwnerKind, 'flash' | 'bench'>; id: string };
}

export interface JobHistoryEntry {
  /** Unix milliseconds. */
  at: number;
  state: FlashState;
}

export interface JobResult {
  chip?: ChipInfo;
  bytesWritten: number;
  wireBytes: number;
  /** Time spent flashing (connect to reset), as the flasher measured it. */
  flashMs: number;
  warnings: string[];
  deviceId?: string;
  online?: boolean;
}

/** A job as the API shows it. No secrets: the provisioning spec is reduced to its kind. */
export interface JobRecord {
  id: string;
  port: string;
  kind: FlashKind;
  state: FlashState;
  history: JobHistoryEntry[];
  /** Unix milliseconds. */
  created: number;
  started?: number;
  finished?: number;
  files: { name: string; size: number; address?: number }[];
  provision?: ProvisionSpec['kind'];
  result?: JobResult;
}

export type ProvisioningFactory = (signal: AbortSignal) => HubProvisioning;

export interface JobManagerOptions {
  registry: PortRegistry;
  concurrency?: number;
  keepFinished?: number;
  /**
   * How provisioning reaches the hub (create the device, wait for it online). Absent: only Improv
   * provisioning (Wi-Fi credentials, no device record) is possible.
   */
  provisioning?: ProvisioningFactory;
  /** Worker knobs (stall timeout, worker entry, STM32 timeouts for tests). */
  worker?: Omit<WorkerRunOptions, 'onState' | 'onLog' | 'signal'>;
  /**
   * `process`: every job in a worker process of its own (default: what a hub needs, its event
   * loop and its life kept apart from serial ports and esptool-js). `in-process`: on this
   * process's loop, for a CLI that runs one job and exits (`fleetbench flash`): no second Node
   * start, no IPC, ~0.4 s sooner (issue 11, flashing end to end). The flasher code is then loaded
   * on the first job, so a manager that never runs one never loads it.
   */
  runIn?: 'process' | 'in-process';
  /** Does this path name a serial device? Default: an existing character device. */
  portExists?: (path: string) => boolean;
}

export interface JobManagerEvents {
  /** Every state of every job, progress included. */
  state: [job: JobRecord, state: FlashState];
  log: [job: JobRecord, line: string];
  finished: [job: JobRecord];
}

interface Entry {
  record: JobRecord;
  /** What to run; null once the job has ended (the image bytes are not kept). */
  spec: JobSpec | null;
  lease: PortLease;
  abort: AbortController;
  log: string[];
  done: Promise<JobRecord>;
  resolveDone: (r: JobRecord) => void;
}

const FINAL: ReadonlySet<FlashStateName> = new Set(['done', 'failed', 'cancelled']);

export function isFinal(state: FlashState): boolean {
  return FINAL.has(state.state);
}

/** A path a flasher can open: an existing character device (a tty, a pty behind a link). */
export function isSerialDevice(path: string): boolean {
  try {
    return statSync(path).isCharacterDevice();
  } catch {
    return false;
  }
}

function newId(): string {
  return `j${randomBytes(5).toString('hex')}`;
}

function snapshot(r: JobRecord): JobRecord {
  return structuredClone(r);
}

export class FlashJobManager extends EventEmitter<JobManagerEvents> {
  private readonly jobs = new Map<string, Entry>();
  private readonly queue: Entry[] = [];
  private running = 0;
  private closed = false;
  /**
   * File sets whose images passed the (async) inspection: `enqueue` takes only these, so no
   * path queues a job without it, and a bench sends one checked set to many ports.
   */
  private readonly inspected = new WeakSet<readonly FlashFile[]>();
  readonly concurrency: number;
  private readonly keepFinished: number;

  constructor(private readonly opts: JobManagerOptions) {
    super();
    const c = opts.concurrency ?? DEFAULT_CONCURRENCY;
    if (!Number.isInteger(c) || c < 1) throw new RangeError(`concurrency must be >= 1, got ${c}`);
    this.concurrency = c;
    this.keepFinished = opts.keepFinished ?? DEFAULT_KEEP_FINISHED;
  }

  get registry(): PortRegistry {
    return this.opts.registry;
  }

  /** True when provisioning can create devices in a hub (not only Improv). */
  get canRegisterDevices(): boolean {
    return this.opts.provisioning !== undefined;
  }

  /**
   * Checks the request, leases the port and queues the job. Throws HubError before anything
   * starts: validation_failed / image_invalid / chip_mismatch / image_too_large for bad input,
   * port_not_found, port_busy (naming the owner), not_implemented when provisioning needs a hub
   * and there is none, conflict after close(). A fw.zip is inflated on the thread pool for the
   * check (issue 7 item 9), so a large archive never stalls the hub's event loop.
   */
  async submit(spec: JobSpec): Promise<JobRecord> {
    await this.inspect(spec.request);
    return this.queueJob(spec);
  }

  /**
   * Every check of the request that needs no board, images included (async: archives inflate
   * off the event loop). On success its files may go to `enqueue`, for any number of ports.
   */
  async inspect(req: FlashRequest): Promise<void> {
    if (this.closed) throw new HubError('conflict', 'the flasher is shutting down');
    await checkFlashRequest(req);
    this.inspected.add(req.files);
  }

  /**
   * Queues a job whose files passed `inspect` (the rest of the request is checked again here,
   * synchronously); throws like `submit`, and internal for files never inspected.
   */
  enqueue(spec: JobSpec): JobRecord {
    if (this.closed) throw new HubError('conflict', 'the flasher is shutting down');
    const req = spec.request;
    if (!this.inspected.has(req.files)) {
      throw new HubError('internal', 'flash request queued without its images inspected');
    }
    checkFlashOptions(req);
    return this.queueJob(spec);
  }

  private queueJob(spec: JobSpec): JobRecord {
    // Closed meanwhile (submit awaited its inspection): nothing may be queued any more.
    if (this.closed) throw new HubError('conflict', 'the flasher is shutting down');
    const req = spec.request;
    this.checkProvision(spec.provision);
    if (!(this.opts.portExists ?? isSerialDevice)(req.port)) {
      throw new HubError('port_not_found', `serial port ${req.port} does not exist`, {
        hint: 'Plug the board in and pick its port from the list (GET /api/v2/local/ports).',
      });
    }
    const id = newId();
    const owner = spec.owner ?? { kind: 'flash' as const, id };
    const lease = this.opts.registry.acquire(req.port, owner);
    const now = Date.now();
    const record: JobRecord = {
      id,
      port: req.port,
      kind: req.kind,
      state: { state: 'queued' },
      history: [{ at: now, state: { state: 'queued' } }],
      created: now,
      files: req.files.map((f) => ({
        name: f.name,
        size: f.data.length,
        ...(f.address !== undefined ? { address: f.address } : {}),
      })),
      ...(spec.provision ? { provision: spec.provision.kind } : {}),
    };
    let resolveDone: (r: JobRecord) => void = () => {};
    const done = new Promise<JobRecord>((r) => (resolveDone = r));
    const entry: Entry = {
      record,
      spec,
      lease,
      abort: new AbortController(),
      log: [],
      done,
      resolveDone,
    };
    this.jobs.set(id, entry);
    this.queue.push(entry);
    this.emit('state', snapshot(record), record.state);
    this.pump();
    return snapshot(record);
  }

  get(id: string): JobRecord {
    const e = this.jobs.get(id);
    if (!e) throw new HubError('job_not_found', `no job '${id}'`);
    return snapshot(e.record);
  }

  /** Newest first. */
  list(): JobRecord[] {
    return [...this.jobs.values()].map((e) => snapshot(e.record)).reverse();
  }

  /** The job's log lines (esptool-js output, warnings), oldest first. */
  logOf(id: string): string[] {
    const e = this.jobs.get(id);
    if (!e) throw new HubError('job_not_found', `no job '${id}'`);
    return [...e.log];
  }

  /** Image bytes the manager still holds: those of queued and running jobs only. */
  get heldImageBytes(): number {
    let n = 0;
    for (const e of this.jobs.values()) {
      for (const f of e.spec?.request.files ?? []) n += f.data.byteLength;
    }
    return n;
  }

  get activeCount(): number {
    return [...this.jobs.values()].filter((e) => !isFinal(e.record.state)).length;
  }

  /**
   * Cancels a job: a queued one ends at once, a running one as soon as its worker stops (the port
   * is closed by the flasher, or the process is killed after a grace period). A finished job is
   * returned unchanged.
   */
  cancel(id: string): JobRecord {
    const e = this.jobs.get(id);
    if (!e) throw new HubError('job_not_found', `no job '${id}'`);
    if (isFinal(e.record.state)) return snapshot(e.record);
    e.abort.abort();
    const queued = this.queue.indexOf(e);
    if (queued !== -1) {
      this.queue.splice(queued, 1);
      this.finish(e, { state: 'cancelled' });
    }
    return snapshot(e.record);
  }

  /** Resolves with the job once it is done, failed or cancelled. */
  wait(id: string): Promise<JobRecord> {
    const e = this.jobs.get(id);
    if (!e) return Promise.reject(new HubError('job_not_found', `no job '${id}'`));
    return e.done;
  }

  /** Cancels everything and waits until every port is released. */
  async close(): Promise<void> {
    this.closed = true;
    const pending = [...this.jobs.values()].filter((e) => !isFinal(e.record.state));
    for (const e of pending) this.cancel(e.record.id);
    await Promise.all(pending.map((e) => e.done));
  }

  private checkProvision(p: ProvisionSpec | undefined): void {
    if (!p) return;
    if (p.kind === 'improv') {
      if (!p.wifi)
        throw new HubError('validation_failed', 'provision: improv needs wifi credentials');
      return;
    }
    if (p.kind === 'template' && !p.template) {
      throw new HubError('validation_failed', 'provision: template provisioning needs a template');
    }
    if (!this.opts.provisioning) {
      throw new HubError(
        'not_implemented',
        `provision: '${p.kind}' registers the device in a hub, and there is none here`,
      );
    }
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const e = this.queue.shift();
      if (!e) return;
      this.running++;
      void this.run(e).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private setState(e: Entry, state: FlashState): void {
    const r = e.record;
    const previous = r.state.state;
    r.state = state;
    if (previous !== state.state || isFinal(state)) {
      r.history.push({ at: Date.now(), state });
      if (r.history.length > MAX_HISTORY) r.history.splice(1, r.history.length - MAX_HISTORY);
    }
    this.emit('state', snapshot(r), state);
  }

  private addLog(e: Entry, line: string): void {
    e.log.push(line);
    if (e.log.length > MAX_LOG_LINES) e.log.splice(0, e.log.length - MAX_LOG_LINES);
    this.emit('log', snapshot(e.record), line);
  }

  private async run(e: Entry): Promise<void> {
    const { spec, abort } = e;
    if (!spec) return; // ended while queued
    const started = Date.now();
    e.record.started = started;
    let final: FlashState;
    try {
      // `done` comes from us, after provisioning, with the whole job's duration.
      const onState = (s: FlashState): void => {
        if (s.state !== 'done' && s.state !== 'failed') this.setState(e, s);
      };
      const onLog = (line: string): void => this.addLog(e, line);
      let outcome: FlashOutcome;
      if (this.opts.runIn === 'in-process') {
        const { runFlash } = await import('./flash-runner');
        outcome = await runFlash(spec.request, onState, abort.signal, {
          log: onLog,
          ...(this.opts.worker?.tuning ? { tuning: this.opts.worker.tuning } : {}),
        });
      } else {
        outcome = await runFlashInWorker(spec.request, {
          ...this.opts.worker,
          signal: abort.signal,
          onState,
          onLog,
        });
      }
      const result: JobResult = {
        chip: outcome.chip,
        bytesWritten: outcome.bytesWritten,
        wireBytes: outcome.wireBytes,
        flashMs: outcome.durationMs,
        warnings: outcome.warnings,
      };
      e.record.result = result;
      if (spec.provision) {
        if (abort.signal.aborted)
          throw new FlashError('cancelled', 'cancelled before provisioning');
        const provisioned = await this.provision(e, spec.provision, spec.request.port);
        if (provisioned.deviceId !== undefined) result.deviceId = provisioned.deviceId;
        if (provisioned.online !== undefined) result.online = provisioned.online;
      }
      final = {
        state: 'done',
        durationMs: Date.now() - started,
        chip: outcome.chip,
        ...(result.deviceId !== undefined ? { deviceId: result.deviceId } : {}),
      };
    } catch (err) {
      const fe = toJobError(err);
      if (fe.code === 'cancelled' || abort.signal.aborted) final = { state: 'cancelled' };
      else {
        final = {
          state: 'failed',
          code: fe.code,
          message: fe.message,
          ...(fe.hint ? { hint: fe.hint } : {}),
        };
      }
    }
    this.finish(e, final);
  }

  private async provision(
    e: Entry,
    p: ProvisionSpec,
    port: string,
  ): Promise<{ deviceId?: string; online?: boolean }> {
    const hub: HubProvisioning = this.opts.provisioning?.(e.abort.signal) ?? {
      deviceUrl: '',
      createDevice: () => Promise.reject(new Error('no hub to create the device in')),
      waitOnline: () => Promise.resolve(false),
    };
    const input = {
      path: port,
      family: p.kind,
      ...(p.baud !== undefined ? { baud: p.baud } : {}),
      ...(p.name !== undefined ? { name: p.name } : {}),
      ...(p.wifi !== undefined ? { wifi: p.wifi } : {}),
      ...(p.template !== undefined ? { template: p.template } : {}),
      ...(p.expect !== undefined ? { expect: p.expect } : {}),
      ...(p.expectLiteral !== undefined ? { expectLiteral: p.expectLiteral } : {}),
      ...(p.onlineTimeoutMs !== undefined ? { onlineTimeoutMs: p.onlineTimeoutMs } : {}),
    };
    let deviceId: string | undefined;
    const r = await runProvisioning(input, hub, (s) => {
      if (s.state === 'waiting_online') deviceId = s.deviceId;
      if (s.state === 'provisioning' || s.state === 'waiting_online') this.setState(e, s);
    }).catch((err: unknown) => {
      // Keep the minted id: the device exists in the registry even if it never came online.
      if (deviceId !== undefined && e.record.result) e.record.result.deviceId = deviceId;
      throw err;
    });
    return {
      ...(r.deviceId !== undefined ? { deviceId: r.deviceId } : {}),
      ...(r.online !== undefined ? { online: r.online } : {}),
    };
  }

  private finish(e: Entry, state: FlashState): void {
    e.record.finished = Date.now();
    // Keep metadata only: the record already names the files and their sizes.
    e.spec = null;
    e.lease.release();
    this.setState(e, state);
    const snap = snapshot(e.record);
    this.emit('finished', snap);
    e.resolveDone(snap);
    this.trim();
  }

  private trim(): void {
    const finished = [...this.jobs.values()].filter((x) => isFinal(x.record.state));
    const excess = finished.length - this.keepFinished;
    for (let i = 0; i < excess; i++) {
      const old = finished[i];
      if (old) this.jobs.delete(old.record.id);
    }
  }
}

/**
 * Bench mode (issue: "Several ports at once (one job each, bounded concurrency): detect, flash,
 * verify, provision, wait online, then record a result row; retry the failed ones; export the
 * results as CSV. Progress per port.").
 *
 * A bench run is a set of flash jobs with the same images and options, one per port; the job
 * manager bounds how many run at once and owns each port while its job lives. The run keeps one
 * result row per port and updates it from the jobs' states. A port that cannot even start (busy,
 * unplugged) gets a failed row; bad images or options refuse the whole run before anything starts.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { HubError } from '../../../shared/errors';
import type { FlashErrorCode, FlashState, FlashStateName } from '../../../shared/flash-state';
import { canonicalPortPath } from '../serial/port-registry';
import { buildFlashRequest, type FlashFile, type FlashOptions } from '../jobs/flash-request';
import { isFinal, type FlashJobManager, type JobRecord } from '../jobs/job-manager';

export type BenchOutcome = 'pending' | 'running' | 'ok' | 'failed' | 'cancelled';

/** One board on the bench. The first eight fields are the CSV columns (bench-csv.ts). */
export interface BenchRow {
  port: string;
  chip?: string;
  mac?: string;
  flashSize?: string;
  deviceId?: string;
  outcome: BenchOutcome;
  durationMs?: number;
  error?: string;
  /** FlashError code (or REST error kind when the job could not start). */
  code?: FlashErrorCode | string;
  hint?: string;
  attempts: number;
  /** The current (or last) job of this port. */
  job?: string;
  /** The job's current state name while it runs. */
  state?: FlashStateName;
}

export interface BenchSpec {
  ports: string[];
  files: FlashFile[];
  options: Omit<FlashOptions, 'port'>;
}

export interface BenchSnapshot {
  id: string;
  /** Unix milliseconds. */
  created: number;
  finished?: number;
  running: boolean;
  rows: BenchRow[];
  summary: { total: number; ok: number; failed: number; cancelled: number; pending: number };
}

export interface BenchRunEvents {
  /** A job of the bench changed state (progress included). */
  state: [row: BenchRow, state: FlashState];
  /** A row's outcome changed. */
  row: [row: BenchRow];
  /** Every row has an outcome; emitted again after each retry round. */
  done: [snapshot: BenchSnapshot];
}

export const MAX_BENCH_PORTS = 64;

export class BenchRun extends EventEmitter<BenchRunEvents> {
  readonly id = `b${randomBytes(4).toString('hex')}`;
  readonly created = Date.now();
  private finishedAt: number | undefined;
  private readonly byPort = new Map<string, BenchRow>();
  private readonly byJob = new Map<string, BenchRow>();
  private waiters: ((s: BenchSnapshot) => void)[] = [];
  private readonly onState = (job: JobRecord, state: FlashState): void => this.jobState(job, state);

  constructor(
    private readonly manager: FlashJobManager,
    private readonly spec: BenchSpec,
  ) {
    super();
    if (!Array.isArray(spec.ports) || spec.ports.length === 0) {
      throw new HubError('validation_failed', 'ports: give at least one port');
    }
    if (spec.ports.length > MAX_BENCH_PORTS) {
      throw new HubError('validation_failed', `ports: at most ${MAX_BENCH_PORTS}`);
    }
    const seen = new Set<string>();
    for (const port of spec.ports) {
      if (typeof port !== 'string' || port.trim() === '') {
        throw new HubError('validation_failed', 'ports: every port must be a non-empty string');
      }
      const key = canonicalPortPath(port);
      if (seen.has(key)) throw new HubError('validation_failed', `ports: ${port} is listed twice`);
      seen.add(key);
      this.byPort.set(port, { port, outcome: 'pending', attempts: 0 });
    }
  }

  /**
   * Checks the images and options once for the whole run, archives inflated off the event loop
   * (issue 7 item 9). Throws HubError, nothing started; call it before `start`.
   */
  async inspect(): Promise<void> {
    const port = this.byPort.keys().next().value ?? '';
    await this.manager.inspect(buildFlashRequest({ ...this.spec.options, port }, this.spec.files));
  }

  /**
   * Submits one job per port (after `inspect`). Throws HubError (nothing started) when the
   * options are bad, since that would fail every port the same way; port problems fail only
   * their row.
   */
  start(): void {
    // Images are checked once for every port, before this (inspect), off the event loop.
    this.manager.on('state', this.onState);
    this.submitRows([...this.byPort.values()], true);
  }

  /** Runs the failed and cancelled rows again; returns how many. Throws conflict while running. */
  retryFailed(): number {
    if (this.running) throw new HubError('conflict', `bench ${this.id} is still running`);
    const again = [...this.byPort.values()].filter(
      (r) => r.outcome === 'failed' || r.outcome === 'cancelled',
    );
    if (again.length === 0) return 0;
    this.finishedAt = undefined;
    this.manager.on('state', this.onState);
    this.submitRows(again, false);
    return again.length;
  }

  /** Cancels every job still queued or running. */
  cancel(): void {
    for (const row of this.byPort.values()) {
      if (row.job && (row.outcome === 'pending' || row.outcome === 'running')) {
        try {
          this.manager.cancel(row.job);
        } catch {
          // Already gone from the manager's history.
        }
      }
    }
  }

  get running(): boolean {
    return [...this.byPort.values()].some(
      (r) => r.outcome === 'pending' || r.outcome === 'running',
    );
  }

  rows(): BenchRow[] {
    return [...this.byPort.values()].map((r) => ({ ...r }));
  }

  snapshot(): BenchSnapshot {
    const rows = this.rows();
    const count = (o: BenchOutcome): number => rows.filter((r) => r.outcome === o).length;
    return {
      id: this.id,
      created: this.created,
      ...(this.finishedAt !== undefined ? { finished: this.finishedAt } : {}),
      running: this.running,
      rows,
      summary: {
        total: rows.length,
        ok: count('ok'),
        failed: count('failed'),
        cancelled: count('cancelled'),
        pending: count('pending') + count('running'),
      },
    };
  }

  /** Resolves when every row has an outcome. */
  wait(): Promise<BenchSnapshot> {
    if (!this.running) return Promise.resolve(this.snapshot());
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private submitRows(rows: BenchRow[], firstRound: boolean): void {
    let checked = !firstRound;
    for (const row of rows) {
      row.attempts++;
      row.outcome = 'pending';
      for (const k of [
        'chip',
        'mac',
        'flashSize',
        'deviceId',
        'durationMs',
        'error',
        'code',
        'hint',
        'state',
      ] as const) {
        delete row[k];
      }
      try {
        const job = this.manager.enqueue({
          request: buildFlashRequest({ ...this.spec.options, port: row.port }, this.spec.files),
          ...(this.spec.options.provision ? { provision: this.spec.options.provision } : {}),
          owner: { kind: 'bench', id: this.id },
        });
        checked = true;
        row.job = job.id;
        row.state = job.state.state;
        this.byJob.set(job.id, row);
      } catch (err) {
        const e = err instanceof HubError ? err : new HubError('internal', String(err));
        const portProblem = e.kind === 'port_busy' || e.kind === 'port_not_found';
        if (!checked && !portProblem) {
          // Bad images or options: nothing was submitted yet, refuse the whole run.
          row.attempts--;
          row.outcome = 'pending';
          this.manager.off('state', this.onState);
          throw e;
        }
        row.outcome = 'failed';
        row.error = e.message;
        row.code = e.kind;
        delete row.job;
        this.emit('row', { ...row });
      }
    }
    this.checkDone();
  }

  private jobState(job: JobRecord, state: FlashState): void {
    const row = this.byJob.get(job.id);
    if (!row || row.job !== job.id) return;
    row.state = state.state;
    if (!isFinal(state) && row.outcome === 'pending' && state.state !== 'queued') {
      row.outcome = 'running';
      this.emit('row', { ...row });
    }
    if (state.state === 'done') {
      row.outcome = 'ok';
      row.durationMs = state.durationMs;
      if (state.chip) {
        row.chip = state.chip.chip;
        if (state.chip.mac) row.mac = state.chip.mac;
        if (state.chip.flashSize) row.flashSize = state.chip.flashSize;
      }
      if (state.deviceId) row.deviceId = state.deviceId;
    } else if (state.state === 'failed' || state.state === 'cancelled') {
      row.outcome = state.state;
      row.durationMs = (job.finished ?? Date.now()) - (job.started ?? job.created);
      const chip = job.result?.chip;
      if (chip) {
        row.chip = chip.chip;
        if (chip.mac) row.mac = chip.mac;
        if (chip.flashSize) row.flashSize = chip.flashSize;
      }
      if (job.result?.deviceId) row.deviceId = job.result.deviceId;
      if (state.state === 'failed') {
        row.error = state.message;
        row.code = state.code;
        if (state.hint) row.hint = state.hint;
      } else row.error = 'cancelled';
    }
    this.emit('state', { ...row }, state);
    if (isFinal(state)) {
      this.byJob.delete(job.id);
      this.emit('row', { ...row });
      this.checkDone();
    }
  }

  private checkDone(): void {
    if (this.running) return;
    this.manager.off('state', this.onState);
    this.finishedAt = Date.now();
    const snap = this.snapshot();
    this.emit('done', snap);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(snap);
  }
}

/**
 * The hub's bench: at most one bench run at a time (a factory bench is one station), the last
 * run kept for its results and CSV until the next one starts. Mirrors each run as `flash.bench.*`
 * notifications when given a publisher.
 */
import { HubError } from '../../../shared/errors';
import type { FlashJobManager } from '../jobs/job-manager';
import type { Publisher } from '../jobs/job-notifications';
import { mirrorBench } from './bench-notifications';
import { BenchRun, type BenchSnapshot, type BenchSpec } from './bench-run';

export class BenchDesk {
  private run: BenchRun | null = null;
  private unmirror: (() => void) | null = null;

  constructor(
    private readonly manager: FlashJobManager,
    private readonly bus?: Publisher,
  ) {}

  /** Starts a run; conflict while the previous one still runs. */
  async start(spec: BenchSpec): Promise<BenchSnapshot> {
    this.refuseWhileRunning();
    const run = new BenchRun(this.manager, spec);
    await run.inspect();
    this.refuseWhileRunning(); // another run may have started while the images were checked
    const unmirror = this.bus ? mirrorBench(run, this.bus) : null;
    try {
      run.start();
    } catch (err) {
      unmirror?.();
      throw err;
    }
    this.unmirror?.();
    this.run = run;
    this.unmirror = unmirror;
    return run.snapshot();
  }

  private refuseWhileRunning(): void {
    if (this.run?.running) {
      throw new HubError('conflict', `bench ${this.run.id} is still running; cancel it first`);
    }
  }

  current(): BenchRun {
    if (!this.run) throw new HubError('not_found', 'no bench run yet');
    return this.run;
  }

  retry(): BenchSnapshot {
    const run = this.current();
    run.retryFailed();
    return run.snapshot();
  }

  cancel(): BenchSnapshot {
    const run = this.current();
    run.cancel();
    return run.snapshot();
  }

  close(): void {
    this.run?.cancel();
    this.unmirror?.();
    this.unmirror = null;
  }
}

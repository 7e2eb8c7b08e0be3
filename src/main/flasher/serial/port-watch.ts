/**
 * Plug/unplug detection by polling `listPorts` (issue: "refresh on plug/unplug (poll) and report
 * changes as notifications"). Polling rather than udev monitoring because udev may be missing
 * (the same reason port-list has a fallback) and because it works the same on every OS.
 *
 * Polls never overlap: the next one is scheduled only after the previous finished, so a slow
 * listing (udevadm on a busy machine) cannot pile up.
 *
 * Nothing a poll meets may take the hub down (issue 7 item 2: `spawn udevadm EMFILE` did): a
 * failed or incomplete listing keeps the last known ports (no false "removed"), is reported once
 * per outage as a `warning`, and the next polls back off (doubling up to `maxBackoffMs`) until a
 * listing succeeds again (`recovered`). The watcher never emits `error`.
 */
import { EventEmitter } from 'node:events';
import { listPortsStrict, type ListPortsOptions, type PortInfo } from './port-list';
import { devFingerprint } from './dev-fingerprint';

export const DEFAULT_PORT_POLL_MS = 2000;
/** Longest wait between polls while listings keep failing. */
export const DEFAULT_PORT_POLL_MAX_BACKOFF_MS = 30_000;

export interface PortWatcherOptions {
  /** Poll period; default 2000 ms. */
  intervalMs?: number;
  /** Passed to every `listPorts` call (roots, extra ports, system lister). */
  list?: ListPortsOptions;
  /** Emit `added` for ports present at the first poll; default false (only changes are events). */
  emitInitial?: boolean;
  /** Longest poll period while listings fail; default 30 s. */
  maxBackoffMs?: number;
  /**
   * A cheap summary of the ports (dev-fingerprint.ts): a timed poll whose summary is the one two
   * full listings in a row agreed on skips the listing. Default: on Linux with the system lister
   * (udevadm), the /dev summary; `null` lists on every poll (also the default with `systemList`
   * given, as tests do).
   */
  fingerprint?: ((list: ListPortsOptions) => Promise<string>) | null;
}

export interface PortWatcherEvents {
  added: [port: PortInfo];
  removed: [port: PortInfo];
  /** After any poll that added or removed something, with the full new list. */
  changed: [ports: PortInfo[]];
  /**
   * Forwarded `listPorts` warnings (e.g. "udevadm missing, scanning /dev"), deduplicated, and
   * the first failed poll of each outage.
   */
  warning: [message: string];
  /** A listing succeeded again after `failedPolls` failed ones. */
  recovered: [failedPolls: number];
}

/** Identity of a port for change detection: same path but another adapter counts as a re-plug. */
function identity(p: PortInfo): string {
  return [p.path, p.vendorId ?? '', p.productId ?? '', p.serialNumber ?? ''].join('|');
}

export class PortWatcher extends EventEmitter<PortWatcherEvents> {
  private readonly intervalMs: number;
  private current = new Map<string, PortInfo>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private started = false;
  private inFlight: Promise<PortInfo[]> | null = null;
  /** Whether the poll in flight is a timed one (which may skip the listing). */
  private inFlightTimed = false;
  private readonly seenWarnings = new Set<string>();
  /** Failed polls in a row (0 while listings work). */
  private failures = 0;
  private readonly fingerprint: ((list: ListPortsOptions) => Promise<string>) | null;
  /** The summary taken before the last full listing, and whether the one before agreed. */
  private lastPrint: string | null = null;
  private printConfirmed = false;
  /** Full listings made (for tests and the benchmark's curiosity). */
  listings = 0;

  constructor(private readonly opts: PortWatcherOptions = {}) {
    super();
    const ms = opts.intervalMs ?? DEFAULT_PORT_POLL_MS;
    if (!Number.isFinite(ms) || ms < 50) {
      throw new RangeError(`intervalMs must be a number >= 50, got ${String(ms)}`);
    }
    this.intervalMs = ms;
    const systemLister = process.platform === 'linux' && opts.list?.systemList === undefined;
    this.fingerprint =
      opts.fingerprint !== undefined ? opts.fingerprint : systemLister ? devFingerprint : null;
  }

  /**
   * Runs the first poll, then keeps polling until `stop()`. Resolves with the first list (empty
   * when that poll failed; polling goes on regardless).
   */
  async start(): Promise<PortInfo[]> {
    if (this.running) return this.list();
    this.running = true;
    try {
      return await this.refresh();
    } catch {
      return this.list(); // a throwing listener; the ports were taken in
    } finally {
      this.schedule();
    }
  }

  /** Failed polls in a row; 0 while listings work. */
  get failedPolls(): number {
    return this.failures;
  }

  /** The ports seen at the last poll. */
  list(): PortInfo[] {
    return [...this.current.values()].map((p) => ({ ...p }));
  }

  /**
   * Polls now (a REST "refresh" button) and emits what changed. Concurrent callers share one
   * listing.
   */
  refresh(): Promise<PortInfo[]> {
    return this.shared(false);
  }

  /** One poll at a time; `timed` polls may skip the listing when nothing changed. */
  private shared(timed: boolean): Promise<PortInfo[]> {
    if (this.inFlight && this.inFlightTimed && !timed) {
      // The timed poll in flight may skip the listing; one asked for always lists: after it.
      const after = (): Promise<PortInfo[]> => this.shared(false);
      return this.inFlight.then(after, after);
    }
    if (!this.inFlight) {
      this.inFlightTimed = timed;
      this.inFlight = this.poll(timed).finally(() => {
        this.inFlight = null;
      });
    }
    return this.inFlight;
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The wait before the next poll: the period, doubled per failed poll up to the cap. */
  nextDelayMs(): number {
    if (this.failures === 0) return this.intervalMs;
    return Math.min(this.maxDelayMs(), this.intervalMs * 2 ** Math.min(this.failures, 20));
  }

  private maxDelayMs(): number {
    return Math.max(this.intervalMs, this.opts.maxBackoffMs ?? DEFAULT_PORT_POLL_MAX_BACKOFF_MS);
  }

  private schedule(): void {
    if (!this.running || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.shared(true)
        .catch(() => {
          // Only a throwing event listener can get here (failed listings are handled); keep polling.
        })
        .finally(() => this.schedule());
    }, this.nextDelayMs());
    // A watcher alone must not keep a CLI process alive.
    this.timer.unref?.();
  }

  private async poll(timed: boolean): Promise<PortInfo[]> {
    let print: string | null = null;
    if (this.fingerprint) {
      try {
        print = await this.fingerprint(this.opts.list ?? {});
      } catch {
        print = null; // the full listing below says what is wrong
      }
    }
    const unchanged = print !== null && print === this.lastPrint && this.printConfirmed;
    if (timed && unchanged && this.failures === 0) return this.list();
    // A node that just appeared may not have its udev properties yet: the listing after a change
    // is confirmed by one more before polls skip.
    this.printConfirmed = print !== null && print === this.lastPrint;
    this.lastPrint = print;
    this.listings++;
    let ports: PortInfo[];
    // Said only when the poll succeeds: a failed poll is reported by the one outage line below.
    const said: string[] = [];
    try {
      ports = await listPortsStrict({
        ...this.opts.list,
        onWarning: (msg) => {
          this.opts.list?.onWarning?.(msg);
          said.push(msg);
        },
      });
    } catch (err) {
      this.lastPrint = null;
      this.printConfirmed = false;
      this.failures++;
      if (this.failures === 1) {
        const text = err instanceof Error ? err.message : String(err);
        const cap = this.maxDelayMs();
        const capText = cap >= 1000 ? `${Math.round(cap / 1000)} s` : `${cap} ms`;
        this.safeEmit(
          'warning',
          `${text}; keeping the last known ports and retrying (backing off up to ${capText})`,
        );
      }
      return this.list();
    }
    for (const msg of said) {
      if (this.seenWarnings.has(msg)) continue;
      this.seenWarnings.add(msg);
      this.safeEmit('warning', msg);
    }
    if (this.failures > 0) {
      const failed = this.failures;
      this.failures = 0;
      this.safeEmit('recovered', failed);
    }
    const next = new Map(ports.map((p) => [identity(p), p]));
    const firstPoll = !this.started;
    this.started = true;
    const removed = [...this.current.entries()].filter(([k]) => !next.has(k)).map(([, p]) => p);
    const added = [...next.entries()].filter(([k]) => !this.current.has(k)).map(([, p]) => p);
    this.current = next;
    if (firstPoll && !this.opts.emitInitial) return this.list();
    for (const p of removed) this.emit('removed', { ...p });
    for (const p of added) this.emit('added', { ...p });
    if (removed.length > 0 || added.length > 0) this.emit('changed', this.list());
    return this.list();
  }

  /** Reports that must not turn into a failed poll when a listener throws. */
  private safeEmit<K extends 'warning' | 'recovered'>(
    name: K,
    ...args: PortWatcherEvents[K]
  ): void {
    try {
      (this.emit as (n: K, ...a: PortWatcherEvents[K]) => boolean)(name, ...args);
    } catch {
      // A faulty logger must not stop the watcher.
    }
  }
}

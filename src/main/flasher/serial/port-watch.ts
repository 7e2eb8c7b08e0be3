/**
 * Plug/unplug detection by polling `listPorts` (issue: "refresh on plug/unplug (poll) and report
 * changes as notifications"). Polling rather than udev monitoring because udev may be missing
 * (the same reason port-list has a fallback) and because it works the same on every OS.
 *
 * Polls never overlap: the next one is scheduled only after the previous finished, so a slow
 * listing (udevadm on a busy machine) cannot pile up.
 */
import { EventEmitter } from 'node:events';
import { listPorts, type ListPortsOptions, type PortInfo } from './port-list';

export const DEFAULT_PORT_POLL_MS = 2000;

export interface PortWatcherOptions {
  /** Poll period; default 2000 ms. */
  intervalMs?: number;
  /** Passed to every `listPorts` call (roots, extra ports, system lister). */
  list?: ListPortsOptions;
  /** Emit `added` for ports present at the first poll; default false (only changes are events). */
  emitInitial?: boolean;
}

export interface PortWatcherEvents {
  added: [port: PortInfo];
  removed: [port: PortInfo];
  /** After any poll that added or removed something, with the full new list. */
  changed: [ports: PortInfo[]];
  /** Forwarded `listPorts` warnings (e.g. "udevadm missing, scanning /dev"), deduplicated. */
  warning: [message: string];
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
  private readonly seenWarnings = new Set<string>();

  constructor(private readonly opts: PortWatcherOptions = {}) {
    super();
    const ms = opts.intervalMs ?? DEFAULT_PORT_POLL_MS;
    if (!Number.isFinite(ms) || ms < 50) {
      throw new RangeError(`intervalMs must be a number >= 50, got ${String(ms)}`);
    }
    this.intervalMs = ms;
  }

  /** Runs the first poll, then keeps polling until `stop()`. Resolves with the first list. */
  async start(): Promise<PortInfo[]> {
    if (this.running) return this.list();
    this.running = true;
    const first = await this.refresh();
    this.schedule();
    return first;
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
    if (!this.inFlight) {
      this.inFlight = this.poll().finally(() => {
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

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.refresh()
        .catch(() => {
          // Only a throwing event listener can get here (listPorts never throws); keep polling.
        })
        .finally(() => this.schedule());
    }, this.intervalMs);
    // A watcher alone must not keep a CLI process alive.
    this.timer.unref?.();
  }

  private async poll(): Promise<PortInfo[]> {
    const ports = await listPorts({
      ...this.opts.list,
      onWarning: (msg) => {
        this.opts.list?.onWarning?.(msg);
        if (!this.seenWarnings.has(msg)) {
          this.seenWarnings.add(msg);
          this.emit('warning', msg);
        }
      },
    });
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
}

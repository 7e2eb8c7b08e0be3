/**
 * One owner per serial port at a time (issue: "a second user gets a clear port busy error, never
 * a corrupted session"). A flash job, a serial monitor, a provisioning run and a factory bench all
 * talk to the same few ports; two of them interleaving bytes on one UART corrupts both sessions,
 * so every user leases the port here first.
 *
 * The registry is in-process bookkeeping. The OS adds a second line of defence: serialport opens
 * with an exclusive `flock` (bindings-cpp serialport_unix.cpp), so another program holding the port
 * makes `open()` fail with "Cannot lock port"; `describeOpenError` turns that into the same
 * `port_busy` answer.
 */
import { EventEmitter } from 'node:events';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { HubError } from '../../../shared/errors';

export type PortOwnerKind = 'flash' | 'monitor' | 'provision' | 'bench';

export interface PortOwner {
  kind: PortOwnerKind;
  /** Job id, monitor session id, bench station id... shown in the busy message. */
  id: string;
}

export interface PortLease {
  /** The canonical device path the lease holds (symlinks such as /dev/serial/by-id resolved). */
  readonly path: string;
  readonly owner: PortOwner;
  /** Unix milliseconds. */
  readonly acquiredAt: number;
  /** True once `release()` ran or the registry dropped the lease. */
  readonly released: boolean;
  /** Gives the port back. Idempotent: a second call (or a call after a forced drop) is a no-op. */
  release(): void;
}

export interface PortHolder {
  path: string;
  owner: PortOwner;
  acquiredAt: number;
}

const OWNER_LABEL: Record<PortOwnerKind, string> = {
  flash: 'flash job',
  monitor: 'serial monitor',
  provision: 'provisioning',
  bench: 'bench',
};

/** "flash job 12", "serial monitor m-3": how an owner is named in messages. */
export function describeOwner(owner: PortOwner): string {
  return `${OWNER_LABEL[owner.kind]} ${owner.id}`;
}

/**
 * The same port is reachable under several names (/dev/ttyUSB0, /dev/serial/by-id/usb-...,
 * a relative path); leases are keyed by the resolved device path so the names cannot be used to
 * sneak a second owner in.
 */
export function canonicalPortPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

class Lease implements PortLease {
  private done = false;
  constructor(
    readonly path: string,
    readonly owner: PortOwner,
    readonly acquiredAt: number,
    private readonly onRelease: (lease: Lease) => void,
  ) {}
  get released(): boolean {
    return this.done;
  }
  release(): void {
    if (this.done) return;
    this.done = true;
    this.onRelease(this);
  }
  /** Marks the lease dead without calling back (used by `forceRelease`). */
  kill(): void {
    this.done = true;
  }
}

export interface PortRegistryEvents {
  acquired: [holder: PortHolder];
  released: [holder: PortHolder];
}

/**
 * Emits `acquired` and `released` with a `PortHolder` so the integrator can mirror ownership as
 * notifications (the dashboard greys out busy ports).
 */
export class PortRegistry extends EventEmitter<PortRegistryEvents> {
  private readonly leases = new Map<string, Lease>();

  /** Takes the port or throws `HubError('port_busy', 'port /dev/ttyUSB0 is busy: used by flash job 12')`. */
  acquire(path: string, owner: PortOwner): PortLease {
    if (typeof path !== 'string' || path.trim() === '') {
      throw new HubError('validation_failed', 'port path must be a non-empty string');
    }
    const key = canonicalPortPath(path);
    const held = this.leases.get(key);
    if (held) {
      throw new HubError('port_busy', `port ${key} is busy: used by ${describeOwner(held.owner)}`, {
        path: key,
        owner: { ...held.owner },
      });
    }
    const lease = new Lease(key, { ...owner }, Date.now(), (l) => this.drop(l));
    this.leases.set(key, lease);
    this.emit('acquired', toHolder(lease));
    return lease;
  }

  /** Who holds the port now, or null. Accepts any name of the port. */
  owner(path: string): PortOwner | null {
    const lease = this.leases.get(canonicalPortPath(path));
    return lease ? { ...lease.owner } : null;
  }

  /** Every held port, oldest lease first. */
  list(): PortHolder[] {
    return [...this.leases.values()].map(toHolder);
  }

  /**
   * Takes the port away from its holder (an operator's "force release" after a crashed job). The
   * old lease's `release()` then does nothing, so it cannot free the port under a new owner.
   */
  forceRelease(path: string): boolean {
    const key = canonicalPortPath(path);
    const lease = this.leases.get(key);
    if (!lease) return false;
    lease.kill();
    this.leases.delete(key);
    this.emit('released', toHolder(lease));
    return true;
  }

  /** Runs `fn` while holding the port; the lease is released in `finally`, whatever `fn` does. */
  async withPort<T>(
    path: string,
    owner: PortOwner,
    fn: (lease: PortLease) => Promise<T> | T,
  ): Promise<T> {
    const lease = this.acquire(path, owner);
    try {
      return await fn(lease);
    } finally {
      lease.release();
    }
  }

  private drop(lease: Lease): void {
    // Only the current lease may free the slot: a stale lease object must not evict a newer owner.
    if (this.leases.get(lease.path) !== lease) return;
    this.leases.delete(lease.path);
    this.emit('released', toHolder(lease));
  }
}

function toHolder(lease: Lease): PortHolder {
  return { path: lease.path, owner: { ...lease.owner }, acquiredAt: lease.acquiredAt };
}

export type OpenFailureKind = 'not_found' | 'busy' | 'permission' | 'other';

export interface OpenFailure {
  kind: OpenFailureKind;
  message: string;
  hint?: string;
}

/**
 * Classifies a serialport `open()` failure. bindings-cpp reports errno text rather than codes
 * ("Error: No such file or directory, cannot open /dev/x", "Error Resource temporarily unavailable
 * Cannot lock port"), so the text is matched as well as `code`.
 */
export function describeOpenError(path: string, err: unknown): OpenFailure {
  const text = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ENOENT' || /no such file|ENOENT|cannot find/i.test(text)) {
    return {
      kind: 'not_found',
      message: `serial port ${path} does not exist`,
      hint: 'Check the cable and pick the port again; it may have been unplugged.',
    };
  }
  if (
    code === 'EBUSY' ||
    code === 'EAGAIN' ||
    /cannot lock port|resource temporarily unavailable|busy/i.test(text)
  ) {
    return {
      kind: 'busy',
      message: `port ${path} is busy: another program has it open`,
      hint: 'Close other serial monitors or flashers (Arduino IDE, screen, minicom) using this port.',
    };
  }
  if (code === 'EACCES' || /permission denied|EACCES/i.test(text)) {
    return {
      kind: 'permission',
      message: `no permission to open ${path}`,
      hint: 'On Linux add your user to the dialout group (sudo usermod -aG dialout $USER) and log in again.',
    };
  }
  return { kind: 'other', message: `cannot open ${path}: ${text}` };
}

/** The HubError a REST route or the monitor should throw for an open failure. */
export function openErrorToHubError(path: string, err: unknown): HubError {
  const f = describeOpenError(path, err);
  const kind =
    f.kind === 'not_found' ? 'port_not_found' : f.kind === 'busy' ? 'port_busy' : 'serial_error';
  return new HubError(kind, f.message, f.hint ? { hint: f.hint } : undefined);
}

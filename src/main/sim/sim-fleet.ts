/**
 * Many simulated devices in one process: the demo fleet and the load generator. Devices share
 * one SimTicker for their periodic reports, start at an optional ramp rate so a benchmark can
 * model a gradual power-up instead of a storm, and report how long each took to become ready
 * (connected and its Sys.GetInfo answered, PROTOCOL.md 1 session step 2).
 * A fleet can mix firmware families (`family: 'mixed'`: Mongoose OS and Arduino devices in
 * turn) and give some devices their own options (`perDevice`, e.g. faults for a share of them).
 */
import { SimDevice, type SimDeviceOptions } from './sim-device';
import type { SimFamily } from './sim-ota';
import { SimTicker } from './sim-ticker';

/** What `perDevice` may set for one device. */
export type SimDeviceOverrides = Partial<Omit<SimDeviceOptions, 'url' | 'password' | 'ticker'>>;

export interface SimFleetOptions extends Omit<
  SimDeviceOptions,
  'password' | 'id' | 'ticker' | 'family'
> {
  /** One family for all, or 'mixed': even indexes Mongoose OS, odd ones Arduino. */
  family?: SimFamily | 'mixed';
  /** Options for the device at `index`, over the shared ones. */
  perDevice?: (index: number) => SimDeviceOverrides;
  url: string;
  /** One device per password. */
  passwords: string[];
  /** Device ids by index (reported in Sys.GetInfo); derived from each password when absent. */
  ids?: string[];
  /** Devices started per second; absent or 0 starts them all at once. */
  rampPerSecond?: number;
  /** Resolution of the shared periodic timer. Default 100 ms. */
  tickResolutionMs?: number;
}

export interface SimFleetStats {
  devices: number;
  connected: number;
  ready: number;
  /** Milliseconds from each device's start to its first 'ready', for devices that got there. */
  connectMs: number[];
}

/** How often the ramp timer starts the next batch. */
const RAMP_STEP_MS = 20;

export class SimFleet {
  readonly devices: SimDevice[];
  private readonly ticker: SimTicker;
  private rampTimer: NodeJS.Timeout | null = null;
  private started = 0;

  constructor(private readonly opts: SimFleetOptions) {
    const {
      passwords,
      ids,
      rampPerSecond: _r,
      tickResolutionMs,
      seed,
      family,
      perDevice,
      ...shared
    } = opts;
    this.ticker = new SimTicker({ resolutionMs: tickResolutionMs ?? 100 });
    this.devices = passwords.map(
      (password, i) =>
        new SimDevice({
          ...shared,
          password,
          ...(ids?.[i] !== undefined ? { id: ids[i] } : {}),
          // Each device gets its own stream; a fleet seed keeps the whole fleet repeatable.
          ...(seed !== undefined ? { seed: seed + i } : {}),
          ...(family !== undefined ? { family: fleetFamily(family, i) } : {}),
          ...perDevice?.(i),
          ticker: this.ticker,
        }),
    );
  }

  /** Starts every device, at once or at `rampPerSecond`. */
  start(): void {
    const rate = this.opts.rampPerSecond ?? 0;
    if (rate <= 0) {
      while (this.started < this.devices.length) this.devices[this.started++]?.start();
      return;
    }
    const t0 = performance.now();
    const step = (): void => {
      const due = Math.min(
        this.devices.length,
        Math.floor(((performance.now() - t0) * rate) / 1000) + 1,
      );
      while (this.started < due) this.devices[this.started++]?.start();
      if (this.started >= this.devices.length && this.rampTimer !== null) {
        clearInterval(this.rampTimer);
        this.rampTimer = null;
      }
    };
    this.rampTimer = setInterval(step, Math.min(RAMP_STEP_MS, Math.max(1, 1000 / rate)));
    step();
  }

  /** Stops the ramp and every device; resolves when all sockets are closed. */
  async stop(): Promise<void> {
    if (this.rampTimer !== null) clearInterval(this.rampTimer);
    this.rampTimer = null;
    await Promise.all(this.devices.map((d) => d.stop()));
    this.ticker.stop();
    this.started = 0;
  }

  stats(): SimFleetStats {
    let connected = 0;
    let ready = 0;
    const connectMs: number[] = [];
    for (const d of this.devices) {
      if (d.connected) connected++;
      if (d.ready) ready++;
      if (d.timeToReadyMs !== null) connectMs.push(d.timeToReadyMs);
    }
    return { devices: this.devices.length, connected, ready, connectMs };
  }
}

export function fleetFamily(family: SimFamily | 'mixed', index: number): SimFamily {
  if (family !== 'mixed') return family;
  return index % 2 === 0 ? 'mos' : 'arduino';
}

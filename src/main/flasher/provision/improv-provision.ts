/**
 * Improv Wi-Fi over serial (issue: "Wi-Fi credentials, read device info"). Flow per
 * improv-wifi.com/serial, as sdk-serial-js drives it: request the current state (repeated while
 * the board boots), optionally request device info, send the Wi-Fi settings RPC, then wait for
 * either the RPC result (provisioned; first string is the redirect URL, if any) or an error state.
 */
import Type from 'typebox';
import { FlashError } from '../../../shared/flash-state';
import type { SerialLink } from '../monitor/serial-link';
import {
  ImprovCommand,
  ImprovDecoder,
  ImprovError,
  ImprovState,
  ImprovType,
  encodeImprovRpc,
  encodeWifiSettings,
  improvErrorText,
  improvStateName,
  parseImprovRpcResult,
} from './improv-serial';
import {
  PortBaudFields,
  WifiSchema,
  checkWifiBytes,
  errText,
  openProvisionSession,
  parseOptions,
  step,
  type ProvisionReport,
} from './provision-common';

/** The device reported an Improv error state. */
export class ImprovDeviceError extends Error {
  override readonly name = 'ImprovDeviceError';
  constructor(readonly code: number) {
    super(improvErrorText(code));
  }
}

export interface ImprovInfo {
  firmware: string;
  version: string;
  chip: string;
  name: string;
  osName?: string;
  osVersion?: string;
}

export interface ImprovClientOptions {
  onLog?: (line: string) => void;
  /** Packets dropped for a bad checksum/version, and other oddities. */
  onWarning?: (message: string) => void;
  onState?: (state: number) => void;
}

interface Waiter {
  command: number;
  resolve: (strings: string[]) => void;
  reject: (err: Error) => void;
}

/** Improv serial client. Does not own the link. One RPC at a time, as devices expect. */
export class ImprovClient {
  private readonly decoder = new ImprovDecoder();
  private waiter: Waiter | null = null;
  private stateWaiters: ((s: number) => void)[] = [];
  private lock: Promise<unknown> = Promise.resolve();
  private currentState: number | null = null;
  private lastError: number = ImprovError.NONE;
  private readonly onData = (chunk: Buffer) => this.receive(chunk);

  constructor(
    private readonly link: SerialLink,
    private readonly opts: ImprovClientOptions = {},
  ) {
    link.on('data', this.onData);
  }

  get state(): number | null {
    return this.currentState;
  }

  get error(): number {
    return this.lastError;
  }

  /**
   * Asks for the current state until the device answers (a freshly flashed board is still
   * booting). Resolves with the state and, when already provisioned, the device's URL.
   */
  async detect(timeoutMs = 5000, retryMs = 1000): Promise<{ state: number; url?: string }> {
    const deadline = Date.now() + timeoutMs;
    return this.exclusive(async () => {
      const got = new Promise<number>((resolve) => this.stateWaiters.push(resolve));
      // Listen for the provisioned URL before asking, so a fast device cannot beat us.
      const urlResult = this.expectResult(ImprovCommand.REQUEST_CURRENT_STATE);
      urlResult.promise.catch(() => {});
      while (Date.now() < deadline) {
        await this.link.write(encodeImprovRpc(ImprovCommand.REQUEST_CURRENT_STATE));
        const state = await raceTimeout(got, Math.min(retryMs, deadline - Date.now()));
        if (state !== undefined) {
          if (state !== ImprovState.PROVISIONED) {
            urlResult.cancel();
            return { state };
          }
          const strings = await raceTimeout(urlResult.promise, 1000);
          urlResult.cancel();
          return strings?.[0] ? { state, url: strings[0] } : { state };
        }
      }
      urlResult.cancel();
      throw new FlashError(
        'timeout',
        `no Improv serial answer on ${this.link.path} at ${this.link.baud} baud`,
        'The firmware must enable Improv serial (ESPHome: improv_serial:, WLED and Tasmota builds with Improv) on this UART.',
      );
    });
  }

  async getInfo(timeoutMs = 5000): Promise<ImprovInfo> {
    return this.exclusive(async () => {
      const r = this.expectResult(ImprovCommand.REQUEST_INFO);
      await this.link.write(encodeImprovRpc(ImprovCommand.REQUEST_INFO));
      const s = await this.withTimeout(r, timeoutMs, 'device info');
      const info: ImprovInfo = {
        firmware: s[0] ?? '',
        version: s[1] ?? '',
        chip: s[2] ?? '',
        name: s[3] ?? '',
      };
      if (s[4] !== undefined) info.osName = s[4];
      if (s[5] !== undefined) info.osVersion = s[5];
      return info;
    });
  }

  /** Sends credentials; resolves when provisioned, with the redirect URL if the device gave one. */
  async sendWifi(ssid: string, pass: string, timeoutMs = 30_000): Promise<{ url?: string }> {
    return this.exclusive(async () => {
      const r = this.expectResult(ImprovCommand.SEND_WIFI_SETTINGS);
      await this.link.write(encodeWifiSettings(ssid, pass));
      const s = await this.withTimeout(r, timeoutMs, 'Wi-Fi provisioning');
      return s[0] ? { url: s[0] } : {};
    });
  }

  dispose(): void {
    this.link.off('data', this.onData);
    this.waiter?.reject(new FlashError('cancelled', 'Improv client closed'));
    this.waiter = null;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => {});
    return run;
  }

  private expectResult(command: number): { promise: Promise<string[]>; cancel(): void } {
    let w: Waiter | null = null;
    const promise = new Promise<string[]>((resolve, reject) => {
      w = { command, resolve, reject };
      this.waiter = w;
    });
    return {
      promise,
      cancel: () => {
        if (this.waiter === w) this.waiter = null;
      },
    };
  }

  private async withTimeout(
    r: { promise: Promise<string[]>; cancel(): void },
    ms: number,
    what: string,
  ): Promise<string[]> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        r.promise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new FlashError('timeout', `no answer to ${what} within ${Math.round(ms / 1000)} s`),
              ),
            ms,
          );
        }),
      ]);
    } finally {
      if (timer) clearTimeout(timer);
      r.cancel();
    }
  }

  private receive(chunk: Buffer): void {
    for (const ev of this.decoder.push(chunk)) {
      switch (ev.kind) {
        case 'text':
          this.opts.onLog?.(ev.text);
          break;
        case 'bad_checksum':
          this.opts.onWarning?.(
            `ignored an Improv packet with a bad checksum (0x${ev.got.toString(16)}, expected 0x${ev.expected.toString(16)})`,
          );
          break;
        case 'bad_version':
          this.opts.onWarning?.(`ignored an Improv packet of unsupported version ${ev.version}`);
          break;
        case 'truncated':
          this.opts.onWarning?.('ignored a truncated Improv packet');
          break;
        case 'packet':
          this.onPacket(ev.packet.type, ev.packet.data);
          break;
      }
    }
  }

  private onPacket(type: number, data: Uint8Array): void {
    if (type === ImprovType.CURRENT_STATE) {
      const s = data[0];
      if (s === undefined) return;
      this.currentState = s;
      this.opts.onState?.(s);
      const ws = this.stateWaiters;
      this.stateWaiters = [];
      for (const w of ws) w(s);
    } else if (type === ImprovType.ERROR_STATE) {
      const code = data[0] ?? ImprovError.UNKNOWN;
      this.lastError = code;
      if (code !== ImprovError.NONE && this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        w.reject(new ImprovDeviceError(code));
      }
    } else if (type === ImprovType.RPC_RESULT) {
      const r = parseImprovRpcResult(data);
      if (!r) {
        this.opts.onWarning?.('ignored a malformed Improv RPC result');
        return;
      }
      if (this.waiter && this.waiter.command === r.command) {
        const w = this.waiter;
        this.waiter = null;
        w.resolve(r.strings);
      }
    }
  }
}

async function raceTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<undefined>((r) => {
        timer = setTimeout(() => r(undefined), Math.max(0, ms));
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

export const ImprovProvisionSchema = Type.Object(
  {
    ...PortBaudFields,
    wifi: WifiSchema,
    /** Waiting for the device to answer at all (it may be booting); default 10 s. */
    detectTimeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 120_000 })),
    /** Waiting for the Wi-Fi connection; default 30 s. */
    timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 300_000 })),
  },
  { additionalProperties: false },
);

export const ImprovInfoOptionsSchema = Type.Object(
  {
    ...PortBaudFields,
    detectTimeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 120_000 })),
  },
  { additionalProperties: false },
);

export interface ImprovProvisionResult {
  /** Where the device says to continue setup (Improv "redirect URL"), if it gave one. */
  url?: string;
  info?: ImprovInfo;
}

/**
 * Sends Wi-Fi credentials over Improv serial. Reports `{state:'provisioning', step}`; throws
 * FlashError('provision_failed') with the device's error state in words, or port errors.
 */
export async function provisionImprov(
  input: unknown,
  report?: ProvisionReport,
): Promise<ImprovProvisionResult> {
  const opts = parseOptions(ImprovProvisionSchema, input);
  checkWifiBytes(opts.wifi);
  const { link, guarded, close } = await openProvisionSession(opts, report);
  const client = new ImprovClient(link, {
    onState: (s) => {
      if (s === ImprovState.PROVISIONING) step(report, 'device is connecting to Wi-Fi');
    },
  });
  try {
    step(report, 'detecting Improv serial');
    const first = await guarded(client.detect(opts.detectTimeoutMs ?? 10_000)).catch(
      (err: unknown) => {
        throw improvFailure(err, 'detecting Improv');
      },
    );
    if (first.state === ImprovState.STOPPED || first.state === ImprovState.AUTHORIZATION_REQUIRED) {
      throw new FlashError(
        'provision_failed',
        `Improv on the device is ${improvStateName(first.state)}`,
        first.state === ImprovState.STOPPED
          ? 'The firmware has Improv provisioning disabled.'
          : 'Press the button on the device to authorize provisioning, then retry.',
      );
    }
    const result: ImprovProvisionResult = {};
    step(report, 'reading device info');
    try {
      result.info = await guarded(client.getInfo(5000));
    } catch (err) {
      // Info is optional in practice (older firmware answers "unknown RPC"); a vanished port is not.
      if (err instanceof FlashError && err.code === 'port_vanished') throw err;
    }
    step(report, 'sending Wi-Fi settings');
    const r = await guarded(
      client.sendWifi(opts.wifi.ssid, opts.wifi.pass, opts.timeoutMs ?? 30_000),
    ).catch((err: unknown) => {
      throw improvFailure(err, 'provisioning Wi-Fi');
    });
    if (r.url) result.url = r.url;
    return result;
  } finally {
    client.dispose();
    await close();
  }
}

/** Reads firmware name, version, chip and device name over Improv serial. */
export async function improvGetInfo(input: unknown): Promise<ImprovInfo> {
  const opts = parseOptions(ImprovInfoOptionsSchema, input);
  const { link, guarded, close } = await openProvisionSession(opts);
  const client = new ImprovClient(link);
  try {
    await guarded(client.detect(opts.detectTimeoutMs ?? 10_000)).catch((err: unknown) => {
      throw improvFailure(err, 'detecting Improv');
    });
    return await guarded(client.getInfo(5000)).catch((err: unknown) => {
      throw improvFailure(err, 'reading device info');
    });
  } finally {
    client.dispose();
    await close();
  }
}

function improvFailure(err: unknown, what: string): FlashError {
  if (err instanceof ImprovDeviceError) {
    const hint =
      err.code === ImprovError.UNABLE_TO_CONNECT
        ? 'Check the SSID and password, and that the network is 2.4 GHz and in range.'
        : err.code === ImprovError.INVALID_RPC
          ? 'The packet was corrupted on the way; check the baud rate and cable, then retry.'
          : err.code === ImprovError.UNKNOWN_RPC
            ? 'The firmware does not support this Improv command; update it.'
            : undefined;
    return new FlashError('provision_failed', `${what}: ${err.message}`, hint);
  }
  if (err instanceof FlashError) {
    if (err.code === 'port_vanished' || err.code === 'cancelled') return err;
    return new FlashError('provision_failed', `${what}: ${err.message}`, err.hint);
  }
  return new FlashError('provision_failed', `${what}: ${errText(err)}`);
}

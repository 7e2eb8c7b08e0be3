/**
 * Provisioning Mongoose OS firmware over its UART RPC channel (issue: "`Config.Set` of
 * `wifi.sta.*`, `dash.enable`, `dash.token`, `dash.server` (the hub's device URL), then
 * `Config.Save` with reboot"). This is what `mos config-set ... ` followed by a save does, over
 * the framing in mos-rpc-framing.ts.
 */
import Type from 'typebox';
import { FlashError } from '../../../shared/flash-state';
import type { SerialLink } from '../monitor/serial-link';
import {
  MOS_HANDSHAKE,
  MosFrameDecoder,
  asMosResponse,
  encodeMosFrame,
  mosRequest,
} from './mos-rpc-framing';
import {
  PortBaudFields,
  WifiSchema,
  checkWifiBytes,
  errText,
  openProvisionSession,
  parseOptions,
  sleep,
  step,
  type ProvisionReport,
} from './provision-common';

/** A device answered a call with `{"error":{code,message}}`. */
export class MosRpcError extends Error {
  override readonly name = 'MosRpcError';
  constructor(
    readonly method: string,
    readonly code: number,
    readonly deviceMessage: string,
  ) {
    super(`${method} failed on the device: ${deviceMessage || 'no message'} (code ${code})`);
  }
}

export interface MosUartRpcOptions {
  /** Console output between frames (boot log), as it arrives. */
  onLog?: (text: string) => void;
  /** Dropped frames (bad CRC, bad JSON). */
  onWarning?: (message: string) => void;
  /** Handshake repeat period; mos uses 200 ms (serial.go handshakeInterval). */
  handshakeIntervalMs?: number;
}

interface Pending {
  method: string;
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** JSON-RPC client over a Mongoose OS UART channel. Does not own the link. */
export class MosUartRpc {
  private readonly decoder = new MosFrameDecoder();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private ready = false;
  private readyWaiters: (() => void)[] = [];
  private readonly onData = (chunk: Buffer) => this.receive(chunk);
  private readonly onClose = () =>
    this.failAll(new FlashError('port_vanished', `port ${this.link.path} closed`));

  constructor(
    private readonly link: SerialLink,
    private readonly opts: MosUartRpcOptions = {},
  ) {
    link.on('data', this.onData);
    link.on('close', this.onClose);
  }

  get isReady(): boolean {
    return this.ready;
  }

  /**
   * Repeats the handshake until the device answers (or any frame arrives), like mos. A device
   * still booting after a flash simply answers a few rounds later.
   */
  async connect(timeoutMs = 10_000): Promise<void> {
    if (this.ready) return;
    const interval = this.opts.handshakeIntervalMs ?? 200;
    const deadline = Date.now() + timeoutMs;
    const answered = new Promise<void>((resolve) => this.readyWaiters.push(resolve));
    while (!this.ready) {
      if (Date.now() >= deadline) {
        throw new FlashError(
          'timeout',
          `no Mongoose OS RPC answer on ${this.link.path} at ${this.link.baud} baud within ${Math.round(timeoutMs / 1000)} s`,
          'Check the baud rate and that the firmware includes the rpc-uart library (rpc.uart.uart_no matches this port).',
        );
      }
      await this.link.write(MOS_HANDSHAKE);
      await Promise.race([answered, sleep(Math.min(interval, Math.max(1, deadline - Date.now())))]);
    }
  }

  /** Calls `method`; resolves with `result`, rejects with MosRpcError or FlashError('timeout'). */
  async call(method: string, params?: unknown, timeoutMs = 10_000): Promise<unknown> {
    await this.connect(timeoutMs);
    const id = this.nextId++;
    const reply = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new FlashError(
            'timeout',
            `no reply to ${method} within ${Math.round(timeoutMs / 1000)} s`,
          ),
        );
      }, timeoutMs);
      this.pending.set(id, { method, resolve, reject, timer });
    });
    try {
      await this.link.write(encodeMosFrame(mosRequest(id, method, params)));
    } catch (err) {
      const p = this.pending.get(id);
      if (p) {
        clearTimeout(p.timer);
        this.pending.delete(id);
      }
      throw new FlashError('port_vanished', `writing ${method} failed: ${errText(err)}`);
    }
    return reply;
  }

  /**
   * Forget the handshake (the device rebooted and its channel wants a new one).
   */
  resetHandshake(): void {
    this.ready = false;
  }

  /** Stops listening; pending calls fail. The link stays open. */
  dispose(): void {
    this.link.off('data', this.onData);
    this.link.off('close', this.onClose);
    this.failAll(new FlashError('cancelled', 'RPC client closed'));
  }

  private receive(chunk: Buffer): void {
    for (const ev of this.decoder.push(chunk)) {
      switch (ev.type) {
        case 'ready':
          this.markReady();
          break;
        case 'junk':
          this.opts.onLog?.(ev.text);
          break;
        case 'corrupt':
          this.opts.onWarning?.(`dropped a frame: ${ev.reason}`);
          break;
        case 'frame': {
          // Any well-formed frame proves the channel is up.
          this.markReady();
          const res = asMosResponse(ev.frame);
          if (!res) break;
          const p = this.pending.get(res.id);
          if (!p) break;
          clearTimeout(p.timer);
          this.pending.delete(res.id);
          if (res.error)
            p.reject(new MosRpcError(p.method, res.error.code, res.error.message ?? ''));
          else p.resolve(res.result ?? null);
          break;
        }
      }
    }
  }

  private markReady(): void {
    if (this.ready) return;
    this.ready = true;
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w();
  }

  private failAll(err: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(err);
    }
  }
}

export const MosProvisionSchema = Type.Object(
  {
    ...PortBaudFields,
    wifi: Type.Optional(WifiSchema),
    dash: Type.Object(
      {
        token: Type.String({ minLength: 1, maxLength: 256 }),
        /** The hub's device URL, e.g. ws://192.168.1.10:8009/api/v2/rpc (PROTOCOL.md 1). */
        server: Type.String({ minLength: 1, maxLength: 512, pattern: '^wss?://[^\\s]+$' }),
      },
      { additionalProperties: false },
    ),
    /** Per-call timeout; default 10 s. */
    callTimeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 120_000 })),
    /** How long to wait for the RPC channel (device may still be booting); default 15 s. */
    connectTimeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 120_000 })),
    /** How long to watch for the reboot after Config.Save; default 5 s. */
    rebootWaitMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
  },
  { additionalProperties: false },
);
export type MosProvisionOptions = Type.Static<typeof MosProvisionSchema>;

export interface MosDeviceInfo {
  id?: string;
  app?: string;
  fw_version?: string;
  arch?: string;
  mac?: string;
}

export interface MosProvisionResult {
  device: MosDeviceInfo;
  /** Console output appeared after Config.Save, i.e. the board rebooted. */
  rebooted: boolean;
}

function pickInfo(v: unknown): MosDeviceInfo {
  const out: MosDeviceInfo = {};
  if (typeof v !== 'object' || v === null) return out;
  const o = v as Record<string, unknown>;
  for (const k of ['id', 'app', 'fw_version', 'arch', 'mac'] as const) {
    const x = o[k];
    if (typeof x === 'string' && x.length <= 128) out[k] = x;
  }
  return out;
}

/** The `Config.Set` params the issue asks for. */
export function mosConfigPatch(opts: Pick<MosProvisionOptions, 'wifi' | 'dash'>): {
  config: Record<string, unknown>;
} {
  const config: Record<string, unknown> = {
    dash: { enable: true, token: opts.dash.token, server: opts.dash.server },
  };
  if (opts.wifi) {
    config.wifi = { sta: { enable: true, ssid: opts.wifi.ssid, pass: opts.wifi.pass } };
  }
  return { config };
}

/**
 * Writes Wi-Fi and dash settings to a Mongoose OS device and reboots it. Reports
 * `{state:'provisioning', step}`; throws FlashError (provision_failed, port_not_found, port_busy,
 * port_vanished). The caller holds the port lease.
 */
export async function provisionMos(
  input: unknown,
  report?: ProvisionReport,
): Promise<MosProvisionResult> {
  const opts = parseOptions(MosProvisionSchema, input);
  checkWifiBytes(opts.wifi);
  const callMs = opts.callTimeoutMs ?? 10_000;
  const { link, guarded, close } = await openProvisionSession(opts, report);
  let rpc: MosUartRpc | null = null;
  // Console output after Config.Save, kept to recognise the boot banner (bounded).
  let afterSave: string | null = null;
  try {
    rpc = new MosUartRpc(link, {
      onLog: (text) => {
        if (afterSave !== null) afterSave = (afterSave + text).slice(-4096);
      },
    });
    const r = rpc;

    step(report, 'connecting to Mongoose OS RPC');
    await guarded(r.connect(opts.connectTimeoutMs ?? 15_000)).catch((err: unknown) => {
      throw asProvisionError(err, 'connecting');
    });

    step(report, 'reading device info');
    const info = pickInfo(
      await guarded(r.call('Sys.GetInfo', undefined, callMs)).catch((err: unknown) => {
        throw asProvisionError(err, 'Sys.GetInfo');
      }),
    );

    step(report, 'writing configuration');
    await guarded(r.call('Config.Set', mosConfigPatch(opts), callMs)).catch((err: unknown) => {
      throw asProvisionError(err, 'Config.Set');
    });

    step(report, 'saving configuration and rebooting');
    afterSave = '';
    await guarded(r.call('Config.Save', { reboot: true }, callMs)).catch((err: unknown) => {
      throw asProvisionError(err, 'Config.Save');
    });

    // The board reboots after replying; the ROM/boot banner is the evidence (ordinary log lines
    // are not: the app keeps logging until it restarts). Not seeing it is not a failure (the log
    // may go to another UART), so we only report it.
    const waitMs = opts.rebootWaitMs ?? 5000;
    let rebooted = false;
    if (waitMs > 0) {
      step(report, 'waiting for reboot');
      const deadline = Date.now() + waitMs;
      while (Date.now() < deadline && link.isOpen) {
        if (afterSave !== null && BOOT_BANNER.test(afterSave)) {
          rebooted = true;
          break;
        }
        await sleep(50);
      }
    }
    return { device: info, rebooted };
  } finally {
    rpc?.dispose();
    await close();
  }
}

/** ESP32 ROM banner ("ets Jun  8 2016", "ESP-ROM:esp32c3", "rst:0x1 (POWERON_RESET)") or mgos banner. */
const BOOT_BANNER = /ets [A-Z][a-z]{2} +\d|ESP-ROM:|rst:0x[0-9a-f]+ \(|Mongoose OS \d/;

function asProvisionError(err: unknown, what: string): FlashError {
  if (err instanceof MosRpcError) {
    return new FlashError(
      'provision_failed',
      err.message,
      'The firmware refused the setting; check that it includes the dash and wifi libraries.',
    );
  }
  if (err instanceof FlashError) {
    if (err.code === 'port_vanished' || err.code === 'cancelled') return err;
    return new FlashError('provision_failed', `${what}: ${err.message}`, err.hint);
  }
  return new FlashError('provision_failed', `${what}: ${errText(err)}`);
}

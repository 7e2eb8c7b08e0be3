/**
 * The simulated firmware without its socket: everything a device keeps (flash files, config,
 * firmware slots, local state) and the methods the hub calls on it (PROTOCOL.md 2, "Methods we
 * call on devices"). `handle()` takes a method and its untrusted params and returns the reply
 * plus the effects the device must carry out (notifications to send, a reboot); SimDevice does
 * the I/O. Pure apart from reading the clock it is given.
 *
 * Two firmware families (PROTOCOL.md 6) differ in their updater: Mongoose OS (`mos`, default:
 * offsets, uncommitted boot, OTA.Commit/Revert/GetBootState) and the Arduino / ESP-IDF mDash
 * library (`arduino`: appended writes, `{"queued":n}`, `State.Set` progress, no commit step, so
 * those three methods are "method not found"). OTA faults (SimOtaFaults) are decided here too.
 */
import Type, { type TSchema } from 'typebox';
import type { Json, JsonObject } from '../../shared/types';
import { RPC_ERRORS } from '../../shared/errors';
import { firstProblem } from '../validate';
import type { Prng } from './prng';
import { RpcFault } from './rpc-fault';
import { SimConfig, cloneJson, mergeInto, patchForKey } from './sim-config';
import type { Outcome } from './sim-frames';
import { SimFs } from './sim-fs';
import { ArduinoOta, MDASH_ERROR } from './sim-ota-arduino';
import { SimOta, type BootOutcome, type FirmwareImage, type SimFamily } from './sim-ota';
import { spoolAppend, type SpoolResult } from './sim-spool';

export type Effect =
  /**
   * `beforeReply`: sent before the call's reply, as firmware that notifies from inside its handler
   * does (the mDash library's `mDashNotify` writes at once; the reply leaves after the handler).
   */
  | { kind: 'notify'; method: string; params: Json; beforeReply?: boolean }
  /** `hang`: the device goes down and does not come back (a fault). */
  | { kind: 'reboot'; delayMs: number; hang?: boolean }
  /** The running image was committed: the device stops its commit timer. */
  | { kind: 'committed' }
  /** The connection breaks at once, without a close frame (a fault). */
  | { kind: 'drop' };

export interface Handled {
  outcome: Outcome;
  effects: readonly Effect[];
  /** False when the call gets no reply at all (the connection drops first). */
  reply?: boolean;
}

/** OTA faults a simulated device can be told to have; each applies to every update. */
export interface SimOtaFaults {
  /** The Nth OTA.Write (1-based) of an update gets an error reply; the update stays open. */
  otaFailAtWrite?: number;
  /** At the Nth OTA.Write of an update the connection drops, unanswered (mid-transfer). */
  otaDropAtWrite?: number;
  /** After OTA.End the new image fails to boot: the device comes back on the old firmware. */
  otaRollback?: boolean;
  /** After OTA.End the device goes offline and stays offline (until restarted). */
  otaNeverReturn?: boolean;
  /** Each OTA.Write reply is held this long (slow flash); SimDevice applies it. */
  otaWriteDelayMs?: number;
}

export type RebootReason = 'power-on' | 'soft reset';

export interface SimCoreOptions {
  id: string;
  mac: string;
  publicKey: string;
  firmware: FirmwareImage;
  /** The saved configuration at power-on. */
  config: JsonObject;
  /** The device's local application state at every boot (what it reports). */
  state?: JsonObject;
  files?: Record<string, Buffer>;
  prng: Prng;
  /** The firmware family (PROTOCOL.md 6). Default 'mos'. */
  family?: SimFamily;
  /** Sys.GetInfo `arch`. Default 'sim' for mos, 'esp32' for arduino. */
  arch?: string;
  /** OTA faults; the object is read at every call, so changing it takes effect at once. */
  otaFaults?: SimOtaFaults;
  /** Milliseconds clock; Date.now by default. */
  now?: () => number;
  fsCapacityBytes?: number;
  /** FS.Get length when the caller gives none: 512, as the mDash library does. */
  fsDefaultChunkBytes?: number;
  /** Largest FS.Get chunk; bigger requests get this much (and `left` says the rest). */
  fsMaxChunkBytes?: number;
  maxImageBytes?: number;
  /** Reboot delay after OTA.End (the mDash library waits 500 ms). */
  otaRebootDelayMs?: number;
}

/** Mongoose OS reboots 100 ms after Sys.Reboot unless told otherwise. */
export const DEFAULT_REBOOT_DELAY_MS = 100;

const NO_EFFECTS: readonly Effect[] = Object.freeze([]);
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

type Handler = (core: SimDeviceCore, params: unknown, effects: Effect[]) => Json;
type MethodTable = ReadonlyMap<string, MethodSpec>;
interface MethodSpec {
  /** The argument format string RPC.Describe reports, as Mongoose OS registers it. */
  argsFmt?: string;
  run: Handler;
}

function params<S extends TSchema>(schema: S, value: unknown): Type.Static<S> {
  // Firmware treats missing params as an empty object.
  const v = value === undefined || value === null ? {} : value;
  const problem = firstProblem(schema, v);
  if (problem !== null) throw new RpcFault(RPC_ERRORS.invalid_params, `invalid params: ${problem}`);
  return v as Type.Static<S>;
}

function base64(data: string, field: string): Buffer {
  if (data.length % 4 === 1 || !B64.test(data)) {
    throw new RpcFault(RPC_ERRORS.invalid_params, `invalid params: ${field} is not base64`);
  }
  return Buffer.from(data, 'base64');
}

const Filename = Type.String({ minLength: 1 });
const P = {
  describe: Type.Object({ name: Type.String() }),
  reboot: Type.Object({ delay_ms: Type.Optional(Type.Integer({ minimum: 0 })) }),
  fsGet: Type.Object({
    filename: Filename,
    offset: Type.Optional(Type.Integer({ minimum: 0 })),
    len: Type.Optional(Type.Integer({ minimum: 0 })),
  }),
  fsPut: Type.Object({
    filename: Filename,
    data: Type.String(),
    append: Type.Optional(Type.Boolean()),
  }),
  fsRemove: Type.Object({ filename: Filename }),
  fsRename: Type.Object({ src: Filename, dst: Filename }),
  delta: Type.Object({
    state: Type.Record(Type.String(), Type.Unknown()),
    version: Type.Optional(Type.Number()),
    timestamp: Type.Optional(Type.Number()),
  }),
  shadowGet: Type.Object({
    state: Type.Optional(
      Type.Object({ delta: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }),
    ),
  }),
  configGet: Type.Object({ key: Type.Optional(Type.String()) }),
  configSet: Type.Object({
    config: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    key: Type.Optional(Type.String({ minLength: 1 })),
    value: Type.Optional(Type.Unknown()),
    save: Type.Optional(Type.Boolean()),
    reboot: Type.Optional(Type.Boolean()),
  }),
  configSave: Type.Object({ reboot: Type.Optional(Type.Boolean()) }),
  otaBegin: Type.Object({
    size: Type.Integer({ minimum: 1 }),
    commit_timeout: Type.Optional(Type.Number({ minimum: 0 })),
  }),
  otaWrite: Type.Object({ offset: Type.Integer({ minimum: 0 }), data: Type.String() }),
  arduinoBegin: Type.Object({ size: Type.Integer({ minimum: 1 }) }),
  // The library reads only `data` and ignores `offset`, whatever it is.
  arduinoWrite: Type.Object({ data: Type.Optional(Type.Unknown()) }),
};

/** Applies a shadow delta locally and reports the applied values (PROTOCOL.md 3). */
function applyDelta(core: SimDeviceCore, delta: JsonObject, effects: Effect[]): void {
  if (Object.keys(delta).length === 0) return;
  mergeInto(core.state, delta);
  effects.push({
    kind: 'notify',
    method: 'Dash.Shadow.Update',
    params: { state: { reported: cloneJson(delta) } },
  });
}

const COMMON_METHODS: [string, MethodSpec][] = [
  ['Sys.GetInfo', { run: (core) => core.sysInfo() }],
  [
    'Sys.Reboot',
    {
      argsFmt: '{delay_ms: %d}',
      run: (_core, p, effects) => {
        const { delay_ms } = params(P.reboot, p);
        effects.push({ kind: 'reboot', delayMs: delay_ms ?? DEFAULT_REBOOT_DELAY_MS });
        return true;
      },
    },
  ],
  ['RPC.List', { run: (core) => [...core.methods.keys()] }],
  [
    'RPC.Describe',
    {
      argsFmt: '{name: %T}',
      run: (core, p): Json => {
        const { name } = params(P.describe, p);
        const spec = core.methods.get(name);
        if (spec === undefined) throw new RpcFault(404, 'name not found');
        return spec.argsFmt === undefined ? { name } : { name, args_fmt: spec.argsFmt };
      },
    },
  ],
  ['FS.List', { run: (core) => core.fs.list() }],
  ['FS.ListExt', { run: (core) => core.fs.listExt() }],
  [
    'FS.Get',
    {
      argsFmt: '{filename: %Q, offset: %ld, len: %ld}',
      run: (core, p) => {
        const { filename, offset = 0, len = core.fsDefaultChunk } = params(P.fsGet, p);
        const chunk = core.fs.readChunk(filename, offset, Math.min(len, core.fsMaxChunk));
        // Field order and names as the mDash library sends them.
        return { filename, offset, left: chunk.left, data: chunk.data.toString('base64') };
      },
    },
  ],
  [
    'FS.Put',
    {
      argsFmt: '{filename: %Q, data: %V, append: %B}',
      run: (core, p) => {
        const { filename, data, append = false } = params(P.fsPut, p);
        const written = core.fs.write(filename, base64(data, 'data'), append);
        return { filename, written };
      },
    },
  ],
  [
    'FS.Remove',
    {
      argsFmt: '{filename: %Q}',
      run: (core, p) => {
        core.fs.remove(params(P.fsRemove, p).filename);
        return true;
      },
    },
  ],
  [
    'FS.Rename',
    {
      argsFmt: '{src: %Q, dst: %Q}',
      run: (core, p) => {
        const { src, dst } = params(P.fsRename, p);
        core.fs.rename(src, dst);
        return true;
      },
    },
  ],
  [
    'Shadow.Delta',
    {
      argsFmt: '{state: %M, version: %d, timestamp: %d}',
      run: (core, p, effects) => {
        applyDelta(core, params(P.delta, p).state as JsonObject, effects);
        return true;
      },
    },
  ],
  [
    // The hub answers a device's Shadow.Get by calling Shadow.Get with the whole shadow.
    'Shadow.Get',
    {
      run: (core, p, effects) => {
        const delta = params(P.shadowGet, p).state?.delta;
        if (delta !== undefined) applyDelta(core, delta as JsonObject, effects);
        return true;
      },
    },
  ],
  [
    'Config.Get',
    {
      argsFmt: '{key: %Q}',
      run: (core, p) => {
        const { key } = params(P.configGet, p);
        const v = core.config.get(key);
        // Code and message of Mongoose OS rpc-service-config.
        if (v === undefined) throw new RpcFault(404, 'invalid config key');
        return v;
      },
    },
  ],
  [
    'Config.Set',
    {
      argsFmt: '{config: %M, key: %Q, value: %M, save: %B, reboot: %B}',
      run: (core, p, effects) => {
        const { config, key, value, save = false, reboot = false } = params(P.configSet, p);
        if (config === undefined && key === undefined) {
          throw new RpcFault(RPC_ERRORS.invalid_params, 'invalid params: config or key required');
        }
        if (config !== undefined) core.config.set(config as JsonObject);
        if (key !== undefined) core.config.set(patchForKey(key, (value ?? null) as Json));
        if (save) core.config.save();
        if (reboot) effects.push({ kind: 'reboot', delayMs: DEFAULT_REBOOT_DELAY_MS });
        return { saved: save };
      },
    },
  ],
  [
    'Config.Save',
    {
      argsFmt: '{try_once: %B, reboot: %B}',
      run: (core, p, effects) => {
        const { reboot = false } = params(P.configSave, p);
        core.config.save();
        if (reboot) effects.push({ kind: 'reboot', delayMs: DEFAULT_REBOOT_DELAY_MS });
        return { saved: true };
      },
    },
  ],
];

/** The reboot that follows a good OTA.End, or the hang a fault asks for. */
function rebootAfterEnd(core: SimDeviceCore, effects: Effect[]): void {
  const hang = core.otaFaults.otaNeverReturn === true;
  effects.push({ kind: 'reboot', delayMs: core.otaRebootDelayMs, ...(hang ? { hang } : {}) });
}

function mosOta(core: SimDeviceCore): SimOta {
  if (core.ota instanceof SimOta) return core.ota;
  throw new Error('not a Mongoose OS device'); // unreachable: the tables are per family
}

function arduinoOta(core: SimDeviceCore): ArduinoOta {
  if (core.ota instanceof ArduinoOta) return core.ota;
  throw new Error('not an Arduino device'); // unreachable: the tables are per family
}

const MOS_OTA_METHODS: [string, MethodSpec][] = [
  [
    'OTA.Begin',
    {
      argsFmt: '{size: %u, commit_timeout: %u}',
      run: (core, p) => {
        const { size, commit_timeout = 0 } = params(P.otaBegin, p);
        mosOta(core).begin(size, commit_timeout);
        return true;
      },
    },
  ],
  [
    'OTA.Write',
    {
      argsFmt: '{offset: %u, data: %V}',
      run: (core, p) => {
        const { offset, data } = params(P.otaWrite, p);
        mosOta(core).write(offset, base64(data, 'data'));
        return true;
      },
    },
  ],
  [
    'OTA.End',
    {
      run: (core, _p, effects) => {
        mosOta(core).end(core.otaFaults.otaRollback === true);
        rebootAfterEnd(core, effects);
        return true;
      },
    },
  ],
  [
    'OTA.Commit',
    {
      run: (core, _p, effects) => {
        mosOta(core).commit();
        effects.push({ kind: 'committed' });
        return true;
      },
    },
  ],
  [
    'OTA.Revert',
    {
      run: (core, _p, effects) => {
        mosOta(core).checkRevert();
        effects.push({ kind: 'reboot', delayMs: DEFAULT_REBOOT_DELAY_MS });
        return true;
      },
    },
  ],
  ['OTA.GetBootState', { run: (core) => ({ ...mosOta(core).bootState() }) }],
];

/**
 * The library's rpc_ota_* handlers call `mDashNotify("State.Set", ..)`, which sends at once, and
 * only then `mg_rpc_ok` / `mg_rpc_err`, whose reply goes out when the handler returns: the hub
 * gets each State.Set BEFORE the reply of the call that caused it (PROTOCOL.md 6).
 */
const otaPercent = (percent: number | null): Effect => ({
  kind: 'notify',
  method: 'State.Set',
  params: { ota: { percent } },
  beforeReply: true,
});

/** The mDash library's handlers (its rpc_ota_begin/write/end): progress goes out as State.Set. */
const ARDUINO_OTA_METHODS: [string, MethodSpec][] = [
  [
    'OTA.Begin',
    {
      run: (core, p, effects) => {
        arduinoOta(core).begin(params(P.arduinoBegin, p).size);
        effects.push(otaPercent(0));
        return true;
      },
    },
  ],
  [
    'OTA.Write',
    {
      run: (core, p, effects) => {
        const ota = arduinoOta(core);
        if (!ota.uploading) throw new RpcFault(MDASH_ERROR, 'call OTA.Begin');
        const { data } = params(P.arduinoWrite, p);
        if (typeof data !== 'string') throw new RpcFault(MDASH_ERROR, 'data required');
        const { queued, percent } = ota.write(base64(data, 'data'));
        effects.push(otaPercent(percent));
        return { queued };
      },
    },
  ],
  [
    'OTA.End',
    {
      run: (core, _p, effects) => {
        // The library clears its progress before it validates, so also when validation fails.
        effects.push(otaPercent(null));
        arduinoOta(core).end(core.otaFaults.otaRollback === true);
        rebootAfterEnd(core, effects);
        return true;
      },
    },
  ],
];

const METHOD_TABLES: Readonly<Record<SimFamily, MethodTable>> = {
  mos: new Map([...COMMON_METHODS, ...MOS_OTA_METHODS]),
  arduino: new Map([...COMMON_METHODS, ...ARDUINO_OTA_METHODS]),
};

/** The error reply a fault gives, with the family's error code. */
function faultReply(family: SimFamily, message: string): Handled {
  const code = family === 'arduino' ? MDASH_ERROR : -1;
  return { outcome: { error: { code, message } }, effects: NO_EFFECTS };
}

export class SimDeviceCore {
  readonly id: string;
  readonly family: SimFamily;
  readonly arch: string;
  readonly fs: SimFs;
  readonly config: SimConfig;
  readonly ota: SimOta | ArduinoOta;
  /** The methods this family's firmware has. */
  readonly methods: MethodTable;
  /** Read at every call: tests and the CLI may change it while the device runs. */
  otaFaults: SimOtaFaults;
  /** The device's local application state (what it reports in its shadow). */
  state: JsonObject;
  readonly fsDefaultChunk: number;
  readonly fsMaxChunk: number;
  readonly otaRebootDelayMs: number;
  private readonly initialState: JsonObject;
  private readonly now: () => number;
  private bootedAt: number;
  private reason: RebootReason = 'power-on';
  private ramFree: number;
  private temperature: number;
  private logSeq = 0;

  constructor(private readonly opts: SimCoreOptions) {
    this.id = opts.id;
    this.now = opts.now ?? Date.now;
    this.fs = new SimFs(opts.files, { capacityBytes: opts.fsCapacityBytes });
    this.config = new SimConfig(opts.config);
    this.family = opts.family ?? 'mos';
    this.arch = opts.arch ?? (this.family === 'arduino' ? 'esp32' : 'sim');
    this.ota =
      this.family === 'arduino'
        ? new ArduinoOta(opts.firmware, opts.maxImageBytes)
        : new SimOta(opts.firmware, opts.maxImageBytes);
    this.methods = METHOD_TABLES[this.family];
    this.otaFaults = opts.otaFaults ?? {};
    this.initialState = cloneJson(opts.state ?? {});
    this.state = cloneJson(this.initialState);
    this.fsDefaultChunk = opts.fsDefaultChunkBytes ?? 512;
    this.fsMaxChunk = opts.fsMaxChunkBytes ?? 4096;
    this.otaRebootDelayMs = opts.otaRebootDelayMs ?? 500;
    this.bootedAt = this.now();
    this.ramFree = 150_000 + opts.prng.int(40_000);
    this.temperature = 22 + opts.prng.next() * 4;
  }

  static methodNames(family: SimFamily = 'mos'): string[] {
    return [...METHOD_TABLES[family].keys()];
  }

  /**
   * Runs one hub call. Never throws: bad params, missing files and refused updates become error
   * outcomes that change nothing; an unknown method is -32601 (PROTOCOL.md 2).
   */
  handle(method: string, p: unknown): Handled {
    const spec = this.methods.get(method);
    if (spec === undefined) {
      return {
        outcome: { error: { code: RPC_ERRORS.method_not_found, message: 'method not found' } },
        effects: NO_EFFECTS,
      };
    }
    if (method === 'OTA.Write') {
      const faulted = this.writeFault();
      if (faulted !== null) return faulted;
    }
    const effects: Effect[] = [];
    try {
      const result = spec.run(this, p, effects);
      return { outcome: { result }, effects: effects.length === 0 ? NO_EFFECTS : effects };
    } catch (e) {
      if (e instanceof RpcFault) {
        // Effects queued before the refusal still happen (the library's State.Set at OTA.End).
        return {
          outcome: { error: { code: e.code, message: e.message } },
          effects: effects.length === 0 ? NO_EFFECTS : effects,
        };
      }
      const message = e instanceof Error ? e.message : String(e);
      return {
        outcome: { error: { code: RPC_ERRORS.internal, message: `internal error: ${message}` } },
        effects: NO_EFFECTS,
      };
    }
  }

  /** Counts a write of the open update and applies the write faults that are due. */
  private writeFault(): Handled | null {
    if (!this.ota.uploading) return null;
    this.ota.countWrite();
    const n = this.ota.writes;
    if (n === this.otaFaults.otaDropAtWrite) {
      const error = { code: RPC_ERRORS.internal, message: `connection lost at write ${n}` };
      return { outcome: { error }, effects: [{ kind: 'drop' }], reply: false };
    }
    if (n === this.otaFaults.otaFailAtWrite) {
      return faultReply(this.family, `flash write failed at write ${n} (simulated fault)`);
    }
    return null;
  }

  /** A (re)boot: RAM state is gone, the saved config reloads, the boot loader picks a slot. */
  boot(reason: RebootReason): BootOutcome {
    this.reason = reason;
    this.bootedAt = this.now();
    this.config.reload();
    this.state = cloneJson(this.initialState);
    this.logSeq = 0;
    return this.ota.boot();
  }

  get rebootReason(): RebootReason {
    return this.reason;
  }

  /** Whole seconds since the last boot. */
  get uptime(): number {
    return Math.floor((this.now() - this.bootedAt) / 1000);
  }

  /**
   * The `Sys.GetInfo` result (PROTOCOL.md 2); Mongoose OS's arch `sim` marks it as simulated.
   * The Arduino library reports no `mac`.
   */
  sysInfo(): JsonObject {
    const fw = this.ota.active;
    return {
      id: this.id,
      fw_version: fw.fwVersion,
      arch: this.arch,
      fw_id: fw.fwId,
      app: fw.app,
      uptime: this.uptime,
      ram_free: this.sampleRam(),
      reboot_reason: this.reason,
      ...(this.family === 'mos' ? { mac: this.opts.mac } : {}),
      public_key: this.opts.publicKey,
    };
  }

  /** Periodic `Dash.Shadow.Update` params: a few drifting readings. */
  shadowReport(): JsonObject {
    const t = this.temperature + (this.opts.prng.next() - 0.5) * 0.4;
    this.temperature = Math.min(45, Math.max(5, t));
    return {
      state: {
        reported: {
          uptime: this.uptime,
          ram_free: this.sampleRam(),
          temperature: Math.round(this.temperature * 10) / 10,
        },
      },
    };
  }

  /** Periodic `Log` params, as Mongoose OS sends its console lines. */
  logRecord(): JsonObject {
    const seq = ++this.logSeq;
    return {
      fd: 1,
      data: `uptime: ${this.uptime}s, ram_free: ${this.sampleRam()}\n`,
      t: Math.round(this.now()) / 1000,
      seq,
    };
  }

  /** mDashStore: spool one record (PROTOCOL.md 5). */
  store(query: string, values: Json[]): SpoolResult {
    return spoolAppend(this.fs, query, values);
  }

  private sampleRam(): number {
    const next = this.ramFree + this.opts.prng.int(2001) - 1000;
    this.ramFree = Math.min(200_000, Math.max(100_000, next));
    return this.ramFree;
  }
}

/**
 * One OTA job as a list of named steps (DESIGN.md example 3; PROTOCOL.md 6): begin, send the
 * image in chunks awaiting each reply, end, wait for the device to come back, verify. Every state
 * change goes through one callback (`ctx.update`); the manager persists and mirrors it as
 * `ota.state`. The runner never decides when it may start (the manager's queue does).
 */
import type { Json, JsonObject } from '../../shared/types';
import { HubError } from '../../shared/errors';
import type { OtaFamily, OtaJob, OtaJobError } from '../../shared/ota';
import { RPC_ERRORS } from '../../shared/errors';
import { isJsonObject } from '../shadow/json-value';
import { OtaImageReader, OTA_CHUNK_BYTES } from './ota-image-reader';
import { decideOutcome } from './ota-outcome';
import type { OtaWriteGate } from './ota-write-gate';
import { withJson } from '../events/encoded-json';

/** Waits for the device's next stored Sys.GetInfo; armed before `OTA.End` so none is missed. */
export interface ComeBack {
  /** The Sys.GetInfo result, or null when the window passed (or the wait was cancelled). */
  readonly info: Promise<JsonObject | null>;
  cancel(): void;
}

export interface RunnerContext {
  readonly job: Readonly<OtaJob>;
  /** The file to send. */
  readonly path: string;
  /** Mongoose OS: commit as soon as verified. */
  readonly commit: boolean;
  /** `OTA.Begin` commit_timeout (s): how long Mongoose OS waits for a commit before reverting. */
  readonly commitTimeoutS: number;
  /** The fw_id this firmware is known to run as (learned from an earlier update). */
  readonly expectedFwId: () => string | undefined;
  readonly rebootWindowMs: number;
  readonly chunkBytes?: number;
  /** The hub-wide bound on `OTA.Write` calls in flight; none: no bound. */
  readonly writeGate?: OtaWriteGate;
  /** Aborted by cancel (and by hub stop). */
  readonly signal: AbortSignal;
  call(method: string, params?: Json, timeoutMs?: number): Promise<Json>;
  armComeBack(windowMs: number): ComeBack;
  /** A state change (persisted and notified by the caller). */
  update(patch: Partial<OtaJob>): void;
  /** Bytes acknowledged so far (throttled `ota.progress` by the caller). */
  progress(bytes: number): void;
  /** A verified success: the library learns the fw_id and records the install. */
  installed(fwId: string): void;
  /** The reader, for tests that count reads; called once it is open. */
  onReader?(reader: OtaImageReader): void;
}

class Cancelled extends Error {}

/** How long the `OTA.End` that closes an interrupted Arduino update may take. */
export const CLEANUP_TIMEOUT_MS = 5000;

/** The catalog name and message a failed step leaves on the job. */
export function jobErrorOf(err: unknown): OtaJobError {
  if (err instanceof HubError) return { code: err.kind, message: err.message };
  return { code: 'internal', message: err instanceof Error ? err.message : String(err) };
}

/** JSON-RPC "method not found": an Arduino device has no commit step (PROTOCOL.md 6). */
export function isMethodNotFound(err: unknown): boolean {
  if (!(err instanceof HubError) || err.kind !== 'device_error') return false;
  const d = err.details as { code?: unknown } | undefined;
  return d?.code === RPC_ERRORS.method_not_found;
}

const familyOfWriteReply = (reply: Json): OtaFamily =>
  isJsonObject(reply) && typeof reply['queued'] === 'number' ? 'arduino' : 'mos';

export async function runOtaJob(ctx: RunnerContext): Promise<void> {
  let family: OtaFamily = ctx.job.family;
  let begun = false;
  let reader: OtaImageReader | null = null;
  try {
    reader = await OtaImageReader.open(ctx.path, ctx.chunkBytes ?? OTA_CHUNK_BYTES);
    ctx.onReader?.(reader);
    const total = reader.size;
    if (ctx.signal.aborted) throw new Cancelled();
    ctx.update({ state: 'sending', bytes: 0, total });
    await begin(ctx, total);
    begun = true;
    let bytes = 0;
    // 0% once the device accepted the update (with the Arduino library's State.Set 0, PROTOCOL.md 6).
    ctx.progress(0);
    const gate = ctx.writeGate;
    // One `OTA.Write` per turn, inside the hub-wide gate (ota-write-gate.ts), inline rather than
    // in a helper: this loop runs 512 times per MB, and each async layer is promises and
    // closures per chunk (issue 8). The chunk is made only once the gate lets it go, so
    // transfers waiting their turn hold no chunk (with 100 transfers, what lived across a device
    // round trip was promoted by the GC and grew the heap). Its params' JSON is built once here
    // (base64 needs no escaping) and reused for the frame, the `rpc.in.OTA.Write` notification
    // and its log row (events/encoded-json.ts).
    while (bytes < total) {
      if (ctx.signal.aborted) throw new Cancelled();
      const wait = gate?.acquire();
      if (wait) await wait;
      let reply: Json;
      let length: number;
      try {
        if (ctx.signal.aborted) throw new Cancelled();
        const chunk = reader.chunkNow(bytes) ?? (await reader.chunkAt(bytes));
        length = chunk.length;
        const params = withJson(
          { offset: bytes, data: chunk.data },
          `{"offset":${bytes},"data":"${chunk.data}"}`,
        );
        reply = await ctx.call('OTA.Write', params);
      } finally {
        gate?.release();
      }
      if (family === 'unknown') {
        family = familyOfWriteReply(reply);
        ctx.update({ family });
      }
      bytes += length;
      ctx.progress(bytes);
    }
    if (ctx.signal.aborted) throw new Cancelled();
    ctx.update({ state: 'rebooting', bytes });
    // The file is closed while OTA.End travels: a thread-pool round trip that used to stand
    // between the last write's reply and OTA.End. Nothing is read from it any more; a close
    // failure of a read-only handle changes nothing for the device.
    const closed = reader.close().catch(() => undefined);
    reader = null;
    const back = ctx.armComeBack(ctx.rebootWindowMs);
    try {
      await ctx.call('OTA.End');
    } catch (err) {
      // The device may reboot before its reply leaves: a lost connection here is not a failure,
      // the window below tells. A refusal (image validation) is.
      if (!(err instanceof HubError && err.kind === 'device_offline')) {
        back.cancel();
        throw err;
      }
    } finally {
      await closed;
    }
    await verify(ctx, back, family);
  } catch (err) {
    if (reader) await reader.close().catch(() => undefined);
    const cancelled = err instanceof Cancelled;
    // An interrupted update stays open on the Arduino library until OTA.End (or a reboot), which
    // then fails validation: that is the point, so the next attempt can begin (PROTOCOL.md 6).
    if (begun && family !== 'mos' && !(err instanceof HubError && err.kind === 'device_offline')) {
      // Bounded: a hub stopping waits for this, and a silent device must not hold it up.
      await ctx.call('OTA.End', undefined, CLEANUP_TIMEOUT_MS).catch(() => undefined);
    }
    if (cancelled) ctx.update({ state: 'cancelled' });
    else ctx.update({ state: 'failed', error: jobErrorOf(err) });
  }
}

/**
 * `OTA.Begin`; an Arduino device still holding an update a lost session left open answers "OTA
 * already in progress": close it with `OTA.End` and begin once more.
 */
async function begin(ctx: RunnerContext, size: number): Promise<void> {
  const params = { size, commit_timeout: ctx.commitTimeoutS };
  try {
    await ctx.call('OTA.Begin', params);
  } catch (err) {
    if (!(
      err instanceof HubError &&
      err.kind === 'device_error' &&
      /in progress/i.test(err.message)
    )) {
      throw err;
    }
    await ctx.call('OTA.End').catch(() => undefined);
    await ctx.call('OTA.Begin', params);
  }
}

/** Waits for the device to come back, then judges the fw_id it reports (PROTOCOL.md 6). */
export async function verify(ctx: RunnerContext, back: ComeBack, known: OtaFamily): Promise<void> {
  const info = await back.info;
  if (info === null) {
    ctx.update({
      state: 'failed',
      error: {
        code: 'ota_timeout',
        message: `the device did not come back within ${Math.round(ctx.rebootWindowMs / 1000)} s after OTA.End`,
      },
    });
    return;
  }
  const after = typeof info['fw_id'] === 'string' ? info['fw_id'] : '';
  ctx.update({ state: 'verifying', to_fw: after });
  let family = known;
  let uncommitted = false;
  if (family !== 'arduino') {
    try {
      const boot = await ctx.call('OTA.GetBootState');
      family = 'mos';
      uncommitted = isJsonObject(boot) && boot['is_committed'] === false;
    } catch (err) {
      if (!isMethodNotFound(err)) throw err;
      family = 'arduino';
    }
  }
  const outcome = decideOutcome({
    from: ctx.job.from_fw,
    after,
    ...(ctx.expectedFwId() !== undefined && { expected: ctx.expectedFwId() }),
  });
  if (outcome.state !== 'done') {
    ctx.update({ state: outcome.state, family, error: outcome.error });
    return;
  }
  if (uncommitted && ctx.commit) {
    await ctx.call('OTA.Commit');
    uncommitted = false;
  }
  ctx.installed(after);
  ctx.update({ state: 'done', family, ...(uncommitted && { uncommitted: true }) });
}

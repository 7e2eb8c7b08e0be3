/**
 * Spool drain (PROTOCOL.md 5): collects the records a device stored while it could not reach the
 * hub. For `mdash.unsent.old`, then `mdash.unsent`: read with `FS.Get` in chunks of at most
 * `drainChunkBytes` until `left` is 0, run every complete line's query in ONE transaction, and
 * `FS.Remove` the file only after that transaction committed. Runs on connect (session step 5)
 * and on `DB.NewData`; one drain at a time per device, and a trigger while one runs schedules at
 * most one more pass (records stored during a drain are collected by it).
 *
 * A device whose ACL has no `data_write` query at all is not drained: every line would be skipped
 * as an unknown query and the file removed, losing records that the user may still give a query
 * to. Its spool stays on the device (which rotates it, as firmware does) and no FS.Get is spent.
 *
 * Trade-off, as mDash has it: the commit and the `FS.Remove` cannot be one atomic step. If the
 * device goes away between them, its file stays and the next drain stores those lines again
 * (duplicates, never losses). Removing first would lose the rows on a crash instead. A device that
 * disconnects before the commit keeps its file and nothing of it is stored.
 */
import type { DeviceAcl, Json } from '../../shared/types';
import { HubError } from '../../shared/errors';
import { parseSpool } from './spool-lines';
import type { DataWriter } from './data-writer';
import type { DataStats } from './data-stats';

/** Files in drain order (PROTOCOL.md 5: the older one first). */
export const SPOOL_FILES = ['mdash.unsent.old', 'mdash.unsent'] as const;

/** What the drain needs of a device session. */
export interface DrainPeer {
  readonly deviceId: string;
  readonly closed: boolean;
  call(method: string, params: Json | undefined): Promise<Json>;
}

export interface DrainDeps {
  writer: DataWriter;
  stats: DataStats;
  acl(deviceId: string): DeviceAcl;
  publish(name: string, deviceId: string, data: Json): void;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  chunkBytes: number;
  maxFileBytes: number;
}

/** One file's result, in the `data.drain` notification. */
export interface FileDrain {
  file: string;
  bytes: number;
  rows: number;
  skipped: number;
}

interface DeviceDrain {
  peer: DrainPeer;
  again: boolean;
  done: Promise<void>;
}

class Interrupted extends Error {}

export class SpoolDrainer {
  private readonly running = new Map<string, DeviceDrain>();

  constructor(private readonly deps: DrainDeps) {}

  /** Whether a drain of the device runs now. */
  isDraining(deviceId: string): boolean {
    return this.running.has(deviceId);
  }

  /**
   * Starts a drain of the device, or, when one runs, asks it for one more pass (with the newest
   * session). Resolves when the device's drain work ends.
   */
  trigger(peer: DrainPeer): Promise<void> {
    const current = this.running.get(peer.deviceId);
    if (current !== undefined) {
      current.peer = peer;
      current.again = true;
      return current.done;
    }
    const state: DeviceDrain = { peer, again: false, done: Promise.resolve() };
    this.running.set(peer.deviceId, state);
    state.done = this.loop(state).finally(() => this.running.delete(peer.deviceId));
    return state.done;
  }

  private async loop(state: DeviceDrain): Promise<void> {
    do {
      state.again = false;
      const peer = state.peer;
      if (peer.closed) return;
      await this.pass(peer);
    } while (state.again);
  }

  /** One pass over both files. Never throws: failures are logged and counted. */
  private async pass(peer: DrainPeer): Promise<void> {
    const { stats, log, publish } = this.deps;
    if (!hasDataWrite(this.deps.acl(peer.deviceId))) return;
    const files: FileDrain[] = [];
    try {
      for (const file of SPOOL_FILES) {
        const r = await this.drainFile(peer, file);
        if (r !== null) files.push(r);
      }
    } catch (err) {
      if (err instanceof Interrupted || peer.closed) {
        stats.drainsInterrupted++;
        log.info({ device: peer.deviceId, files }, 'spool drain interrupted: the device went away');
        return;
      }
      log.warn({ device: peer.deviceId, err: messageOf(err) }, 'spool drain failed');
      publish('data.drain', peer.deviceId, { files: toJson(files), error: messageOf(err) });
      return;
    }
    if (files.length === 0) return;
    stats.drains++;
    const rows = files.reduce((n, f) => n + f.rows, 0);
    const skipped = files.reduce((n, f) => n + f.skipped, 0);
    log.info({ device: peer.deviceId, rows, skipped, files }, 'spool drained');
    publish('data.drain', peer.deviceId, { rows, skipped, files: toJson(files) });
  }

  /** Drains one file; null when the device has none (an error reply to `FS.Get`). */
  private async drainFile(peer: DrainPeer, file: string): Promise<FileDrain | null> {
    const { writer, stats, log, maxFileBytes } = this.deps;
    const bytes = await this.readFile(peer, file);
    if (bytes === null) return null;
    if (bytes === 'too_large') {
      log.warn(
        { device: peer.deviceId, file, maxFileBytes },
        'spool file too large: left on the device',
      );
      return { file, bytes: -1, rows: 0, skipped: 0 };
    }
    const { records, bad } = parseSpool(bytes.toString('utf8'));
    for (const b of bad) {
      log.warn(
        { device: peer.deviceId, file, line: b.line, reason: b.reason, text: b.text },
        'malformed spool line skipped',
      );
    }
    const outcome = await writer.storeBatch(peer.deviceId, this.deps.acl(peer.deviceId), records);
    for (const s of outcome.skipped) {
      log.warn(
        { device: peer.deviceId, file, line: s.line, reason: s.reason },
        'spool line skipped',
      );
    }
    const skipped = bad.length + outcome.skipped.length;
    stats.drainRows += outcome.rows;
    stats.drainSkipped += skipped;
    // Committed: only now may the device forget the file. Lost here = stored again next time.
    if (peer.closed) throw new Interrupted();
    try {
      await peer.call('FS.Remove', { filename: file });
    } catch (err) {
      if (peer.closed) throw new Interrupted();
      log.warn(
        { device: peer.deviceId, file, err: messageOf(err) },
        'FS.Remove of a drained spool file failed',
      );
    }
    return { file, bytes: bytes.length, rows: outcome.rows, skipped };
  }

  /** The whole file via `FS.Get` chunks; null when it is missing, 'too_large' past the limit. */
  private async readFile(peer: DrainPeer, file: string): Promise<Buffer | null | 'too_large'> {
    const { chunkBytes, maxFileBytes } = this.deps;
    const parts: Buffer[] = [];
    let offset = 0;
    for (;;) {
      if (peer.closed) throw new Interrupted();
      let reply: Json;
      try {
        reply = await peer.call('FS.Get', { filename: file, offset, len: chunkBytes });
      } catch (err) {
        if (peer.closed || (err instanceof HubError && err.kind === 'device_offline')) {
          throw new Interrupted();
        }
        // A missing file is an error reply (PROTOCOL.md 5): skip it. So is any other refusal.
        if (err instanceof HubError && err.kind === 'device_error' && offset === 0) return null;
        throw err;
      }
      const chunk = chunkOf(reply);
      if (chunk === null) throw new Error(`FS.Get ${file}: reply is not {"data","left"}`);
      parts.push(chunk.data);
      offset += chunk.data.length;
      if (offset + chunk.left > maxFileBytes) return 'too_large';
      if (chunk.left === 0) return Buffer.concat(parts);
      // A device that says more is left but sends nothing would keep us here for ever.
      if (chunk.data.length === 0)
        throw new Error(`FS.Get ${file}: empty chunk with ${chunk.left} bytes left`);
    }
  }
}

function hasDataWrite(acl: DeviceAcl): boolean {
  const w = acl.data_write;
  return w !== undefined && w !== null && typeof w === 'object' && Object.keys(w).length > 0;
}

function chunkOf(reply: Json): { data: Buffer; left: number } | null {
  if (reply === null || typeof reply !== 'object' || Array.isArray(reply)) return null;
  const { data, left } = reply;
  if (typeof data !== 'string' || typeof left !== 'number' || !Number.isInteger(left) || left < 0) {
    return null;
  }
  return { data: Buffer.from(data, 'base64'), left };
}

function toJson(files: FileDrain[]): Json {
  return files.map((f) => ({ file: f.file, bytes: f.bytes, rows: f.rows, skipped: f.skipped }));
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

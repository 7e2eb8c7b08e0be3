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
 * The live file keeps growing while it is drained (the firmware appends a record whenever it has
 * one), and a line appended between the last `FS.Get` and the `FS.Remove` would be deleted unread.
 * So `mdash.unsent` is first moved aside with `FS.Rename` to `mdash.unsent.drain` (the firmware's
 * next record starts a fresh `mdash.unsent`) and the moved file, which nothing appends to, is
 * drained; a `mdash.unsent.drain` left by a drain that did not finish is drained first. A device
 * without `FS.Rename` has its live file drained in place: only complete lines are stored, and
 * before `FS.Remove` the hub reads on from where it stopped until nothing new came (a small window
 * of one round trip remains there, which only the rename closes).
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

/** The file the firmware appends to, and the one it rotates full files into (PROTOCOL.md 5). */
export const SPOOL_LIVE = 'mdash.unsent';
export const SPOOL_OLD = 'mdash.unsent.old';
/** Where the live file is moved before it is drained (nothing appends to it there). */
export const SPOOL_ASIDE = 'mdash.unsent.drain';
/** Rounds of reading on before a live file drained in place is removed. */
const LIVE_CATCH_UP_ROUNDS = 5;

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
      // Older records first (PROTOCOL.md 5): an unfinished earlier drain, the rotated file, then
      // the live one, moved aside so that nothing appended meanwhile is removed unread.
      for (const file of [SPOOL_ASIDE, SPOOL_OLD]) {
        const r = await this.drainFile(peer, file);
        if (r !== null) files.push(r);
      }
      const live = (await this.moveAside(peer))
        ? await this.drainFile(peer, SPOOL_ASIDE)
        : await this.drainLive(peer);
      if (live !== null) files.push(live);
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
    await this.remove(peer, file);
    return { file, bytes: bytes.length, rows: outcome.rows, skipped };
  }

  /** `FS.Rename` of the live file aside; false when it failed (no file, or no FS.Rename). */
  private async moveAside(peer: DrainPeer): Promise<boolean> {
    if (peer.closed) throw new Interrupted();
    try {
      await peer.call('FS.Rename', { src: SPOOL_LIVE, dst: SPOOL_ASIDE });
      return true;
    } catch (err) {
      if (peer.closed || (err instanceof HubError && err.kind === 'device_offline')) {
        throw new Interrupted();
      }
      return false;
    }
  }

  /**
   * The live file drained in place (a device without `FS.Rename`, or none to move): complete
   * lines only, then reading on from where it stopped until a read brings nothing new, and only
   * then `FS.Remove`. Still growing after a few rounds: left on the device (stored lines come
   * again next time, as duplicates, never as losses).
   */
  private async drainLive(peer: DrainPeer): Promise<FileDrain | null> {
    const { writer, stats, log, maxFileBytes } = this.deps;
    const file = SPOOL_LIVE;
    let offset = 0;
    let rows = 0;
    let skipped = 0;
    /** Bytes after the last complete line at the previous read; -1 before the first. */
    let tail = -1;
    for (let round = 0; ; round++) {
      const bytes = await this.readFile(peer, file, offset);
      if (bytes === null) return round === 0 ? null : { file, bytes: offset, rows, skipped };
      if (bytes === 'too_large') {
        log.warn(
          { device: peer.deviceId, file, maxFileBytes },
          'spool file too large: left on the device',
        );
        return { file, bytes: -1, rows, skipped };
      }
      const end = bytes.lastIndexOf(0x0a) + 1;
      if (end === 0) {
        // Nothing new since the last read: safe to remove.
        if (bytes.length === 0) break;
        // The same unfinished line twice: cut off for good (a crash mid-write), malformed.
        if (bytes.length === tail) {
          log.warn({ device: peer.deviceId, file }, 'malformed spool line skipped (cut off)');
          skipped++;
          stats.drainSkipped++;
          break;
        }
      } else {
        const { records, bad } = parseSpool(bytes.subarray(0, end).toString('utf8'));
        for (const b of bad) {
          log.warn(
            { device: peer.deviceId, file, line: b.line, reason: b.reason, text: b.text },
            'malformed spool line skipped',
          );
        }
        const acl = this.deps.acl(peer.deviceId);
        const outcome = await writer.storeBatch(peer.deviceId, acl, records);
        rows += outcome.rows;
        skipped += bad.length + outcome.skipped.length;
        stats.drainRows += outcome.rows;
        stats.drainSkipped += bad.length + outcome.skipped.length;
        offset += end;
      }
      tail = bytes.length - end;
      if (round === LIVE_CATCH_UP_ROUNDS) {
        log.warn({ device: peer.deviceId, file }, 'spool file still growing: left on the device');
        return { file, bytes: offset, rows, skipped };
      }
    }
    await this.remove(peer, file);
    return { file, bytes: offset, rows, skipped };
  }

  /** `FS.Remove` after a commit; a failure is logged (the lines come again next time). */
  private async remove(peer: DrainPeer, file: string): Promise<void> {
    if (peer.closed) throw new Interrupted();
    try {
      await peer.call('FS.Remove', { filename: file });
    } catch (err) {
      if (peer.closed) throw new Interrupted();
      this.deps.log.warn(
        { device: peer.deviceId, file, err: messageOf(err) },
        'FS.Remove of a drained spool file failed',
      );
    }
  }

  /**
   * The file from `from` to its end via `FS.Get` chunks; null when it is missing, 'too_large'
   * past the limit.
   */
  private async readFile(
    peer: DrainPeer,
    file: string,
    from = 0,
  ): Promise<Buffer | null | 'too_large'> {
    const { chunkBytes, maxFileBytes } = this.deps;
    const parts: Buffer[] = [];
    let offset = from;
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
        if (err instanceof HubError && err.kind === 'device_error' && offset === from) return null;
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

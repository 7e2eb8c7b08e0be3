/**
 * The in-memory shadows of devices in use, in two views (issue 7 item 6):
 *
 * - `latest`: every change applied, committed or not. Writers build on it, so changes apply in
 *   event-loop order and concurrent writers never lose each other's updates.
 * - `committed`: the newest document whose write is known to be on disk. Readers (REST, device
 *   `Shadow.Get`, notifications) see only this, so nothing they see can be lost by a crash.
 *
 * A write is `begin`-ed when it is queued and `settle`-d when its commit resolves or fails; commits
 * resolve in the order they were queued (group-commit.ts), so the last one settled is what the
 * disk holds. Pure: no I/O, no clock. The caller loads an uncached document from disk, where it is
 * committed as long as no write of it is in flight (`isIdle`).
 */
import type { ShadowDoc } from '../../shared/types';

interface Entry {
  latest: ShadowDoc;
  committed: ShadowDoc;
  /** `JSON.stringify(committed)` when the write that committed it carried the text. */
  committedJson: string | undefined;
  /** Writes begun and not yet settled. */
  inFlight: number;
}

/** Both views of one cached device. */
export interface ShadowViews {
  readonly latest: ShadowDoc;
  readonly committed: ShadowDoc;
}

/** One queued write; settle it exactly once. */
export interface ShadowWrite {
  readonly id: string;
  readonly doc: ShadowDoc;
  /** `JSON.stringify(doc)`, if the writer has it (shadow.ts makes it for the size check). */
  readonly json: string | undefined;
  /** The entry it was begun on: a write of a device deleted meanwhile settles into nothing. */
  readonly entry: Entry;
}

export class ShadowCache {
  private readonly entries = new Map<string, Entry>();

  /** What the next write builds on; undefined when not cached. */
  latest(id: string): ShadowDoc | undefined {
    return this.entries.get(id)?.latest;
  }

  /** What readers see; undefined when not cached (the disk copy is then the committed one). */
  committed(id: string): ShadowDoc | undefined {
    return this.entries.get(id)?.committed;
  }

  /**
   * The committed document's JSON text, when its write carried it: the `updated` notification
   * reuses it instead of encoding the shadow again (issue 11).
   */
  committedJson(id: string): string | undefined {
    return this.entries.get(id)?.committedJson;
  }

  /** Both views, or undefined when not cached. */
  views(id: string): ShadowViews | undefined {
    return this.entries.get(id);
  }

  /** Caches a document read from disk while no write of it is in flight (kept if cached). */
  load(id: string, doc: ShadowDoc): ShadowViews {
    const cached = this.entries.get(id);
    if (cached !== undefined) return cached;
    const entry: Entry = { latest: doc, committed: doc, committedJson: undefined, inFlight: 0 };
    this.entries.set(id, entry);
    return entry;
  }

  /**
   * Records a write of `doc` that is about to be queued; `load` the device first. `json`: exactly
   * `JSON.stringify(doc)`, when the writer has it.
   */
  begin(id: string, doc: ShadowDoc, json?: string): ShadowWrite {
    const entry = this.entries.get(id);
    if (entry === undefined) throw new Error(`shadow of '${id}' is not loaded`);
    entry.latest = doc;
    entry.inFlight++;
    return { id, doc, json, entry };
  }

  /**
   * The write's commit resolved (`ok`) or failed. On success its document is what readers see
   * from now on. On failure the changes not yet committed are dropped: the next write builds on
   * the committed document (writes still in flight after a failure may fail too; the store
   * refuses everything once a flush failed). Returns false when the device was deleted (and
   * maybe created again) meanwhile: the write belonged to a device that no longer exists.
   */
  settle(w: ShadowWrite, ok: boolean): boolean {
    const entry = w.entry;
    entry.inFlight--;
    if (ok) {
      entry.committed = w.doc;
      entry.committedJson = w.json;
    } else entry.latest = entry.committed;
    if (entry.inFlight === 0) entry.latest = entry.committed;
    return this.entries.get(w.id) === entry;
  }

  /** No write of the device is in flight, so its disk copy is the committed one. */
  isIdle(id: string): boolean {
    return (this.entries.get(id)?.inFlight ?? 0) === 0;
  }

  /** Forgets an idle device (it went offline): the cache stays bounded by the devices in use. */
  evictIfIdle(id: string): void {
    if (this.isIdle(id)) this.entries.delete(id);
  }

  /** Forgets a deleted device at once; its writes still in flight settle into nothing. */
  forget(id: string): void {
    this.entries.delete(id);
  }
}

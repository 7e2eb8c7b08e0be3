/**
 * What the stored log (`POST /logs`) keeps of a notification's data. Everything is stored as
 * published except:
 * - the image and file bytes the hub itself sends (`rpc.in.OTA.Write`, `rpc.in.FS.Put`): their
 *   base64 `data` is replaced by its length, `data_len`;
 * - the data rows devices store (`rpc.out.DB.Store`, `rpc.out.DB.Save`): not stored at all. They
 *   are stored already, in the account database, which is where people query them; a copy in the
 *   log doubled the disk writes of ingest (a third of the hub's time at 13k rows/s,
 *   bench/RESULTS.md) and a device storing a reading a second pushed everything else out of the
 *   count-bounded log within hours.
 *
 * Why the bytes go: one 1 MB OTA is 512 `rpc.in.OTA.Write` notifications carrying 1.37 MB of base64. Stored as
 * is, a 100-device rollout wrote 137 MB into the log, evicted the rest of the history from the
 * count-bounded log after a few hundred devices, and kept every chunk's strings alive until its
 * batch committed, which was most of the hub's memory growth during 100 concurrent transfers
 * (bench/RESULTS.md). The live `/notify` stream still carries the full params; the firmware is in
 * the library and the file on the device, so the log loses nothing worth reading.
 */
import type { Json, Notification } from '../../shared/types';

/** Notifications whose `data` string field is bulk bytes the hub sent. */
const BULK = new Set(['rpc.in.OTA.Write', 'rpc.in.FS.Put']);

/** Notifications whose data is stored elsewhere (the account database), not in the log. */
const DATA_ROWS = new Set(['rpc.out.DB.Store', 'rpc.out.DB.Save']);

/**
 * The stored form of `n.data` as JSON text, or null when the notification is not stored; `json`
 * computes the full text when it is kept.
 */
export function storedLogData(n: Notification, json: () => string): string | null {
  if (DATA_ROWS.has(n.name)) return null;
  const d = n.data;
  if (!BULK.has(n.name) || d === null || typeof d !== 'object' || Array.isArray(d)) return json();
  const bytes = d['data'];
  if (typeof bytes !== 'string') return json();
  // The OTA runner's chunk, `{"offset":n,"data":...}`, 512 times per MB: its text directly, without
  // the copy and the encoding below (about 3.7 us a chunk, issue 8). Same bytes as below.
  const offset = d['offset'];
  if (typeof offset === 'number' && Number.isFinite(offset)) {
    const keys = Object.keys(d);
    if (keys.length === 2 && keys[0] === 'offset' && keys[1] === 'data') {
      return `{"offset":${offset},"data_len":${bytes.length}}`;
    }
  }
  const kept: Record<string, Json> = {};
  for (const [k, v] of Object.entries(d)) if (k !== 'data' && v !== undefined) kept[k] = v;
  kept['data_len'] = bytes.length;
  return JSON.stringify(kept);
}

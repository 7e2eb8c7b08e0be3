/**
 * Helpers of the device-data integration tests: a device with a data_write ACL, rows read back
 * from the real account database file, and a hand-driven device that answers the session steps
 * (Sys.GetInfo, and FS.Get / FS.Remove from an in-memory file map) the way firmware does.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { DeviceAcl, DeviceObject, Json } from '../../../src/shared/types';
import { ACCOUNT_FILE } from '../../../src/main/store/data-dir';
import { RawDevice, deviceUrl, waitFor, type TestHub } from '../../support/hub-harness';

export const INSERT_Q =
  "INSERT INTO data (timestamp, device_id, topic, message) VALUES (?, 'DEVICE_ID', ?, ?)";

export async function dataDevice(t: TestHub, acl: DeviceAcl = {}): Promise<DeviceObject> {
  const dev = await t.createDevice({});
  const r = await t.api('POST', `/api/v2/devices/${dev.id}`, {
    acl: { data_write: { q: INSERT_Q }, ...acl },
  });
  if (r.status !== 200) throw new Error(`set acl: ${r.status} ${r.text}`);
  return dev;
}

/** Rows of the account database, read from its file by a connection of our own. */
export function accountRows<T = Record<string, unknown>>(
  t: TestHub,
  sql: string,
  ...p: unknown[]
): T[] {
  const db = new Database(join(t.dataDir, ACCOUNT_FILE), { readonly: true });
  try {
    return db.prepare(sql).all(...p) as T[];
  } finally {
    db.close();
  }
}

export interface FileDevice {
  raw: RawDevice;
  files: Map<string, Buffer>;
  /** Every FS.* call the hub made, in order. */
  fsCalls: { method: string; params: Json }[];
  /** When set, FS.Get replies are held until the returned promise of `hold` resolves. */
  hold: (() => Promise<void>) | null;
  /** Replies to FS.Get ignore `len` and send this many bytes (a firmware with big chunks). */
  chunkOverride: number | null;
  rpc(method: string, params: Json, id?: number): Promise<Record<string, Json>>;
  notify(method: string, params: Json): void;
}

let nextId = 1000;

/** A raw device serving its files to the hub's drain; resolves once the session is online. */
export async function fileDevice(
  t: TestHub,
  dev: Pick<DeviceObject, 'id' | 'token'>,
  files: Record<string, string | Buffer> = {},
): Promise<FileDevice> {
  const raw = await RawDevice.connect(deviceUrl(t), {
    headers: { authorization: `Bearer ${dev.token}` },
  });
  const fd: FileDevice = {
    raw,
    files: new Map(Object.entries(files).map(([k, v]) => [k, Buffer.from(v)])),
    fsCalls: [],
    hold: null,
    chunkOverride: null,
    async rpc(method, params, id = nextId++) {
      raw.send({ id, method, params });
      return raw.next((f) => f['id'] === id && f['method'] === undefined);
    },
    notify(method, params) {
      raw.send({ method, params });
    },
  };
  raw.ws.on('message', (data) => {
    const f = JSON.parse(data.toString()) as Record<string, Json>;
    const method = f['method'];
    if (typeof method !== 'string') return;
    const params = (f['params'] ?? {}) as Record<string, Json>;
    if (method === 'Sys.GetInfo') {
      raw.reply(f, { fw_version: '1.0', arch: 'esp32', fw_id: 'x', app: 'test' });
      return;
    }
    if (!method.startsWith('FS.')) return;
    fd.fsCalls.push({ method, params });
    const name = String(params['filename']);
    const file = fd.files.get(name);
    const answer = (): void => {
      if (file === undefined) {
        raw.send({ id: f['id'], error: { code: -1, message: `file not found: ${name}` } });
        return;
      }
      if (method === 'FS.Remove') {
        fd.files.delete(name);
        raw.reply(f, true);
        return;
      }
      const offset = Number(params['offset'] ?? 0);
      const len = fd.chunkOverride ?? Number(params['len'] ?? 512);
      const chunk = file.subarray(offset, offset + len);
      raw.reply(f, {
        filename: name,
        offset,
        left: file.length - Math.min(file.length, offset + len),
        data: chunk.toString('base64'),
      });
    };
    if (method === 'FS.Get' && fd.hold !== null) void fd.hold().then(answer);
    else answer();
  });
  await waitFor(() => t.hub.services().gateway.isOnline(dev.id));
  return fd;
}

/** A spool line as the mDash library writes it. */
export function line(query: string, params: Json[]): string {
  return `${query} ${JSON.stringify(params)}\n`;
}

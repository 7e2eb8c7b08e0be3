/**
 * A file streamed from a running hub into `<file>.part`, fsynced, then renamed to `<file>`: what
 * `fleetbench db download` and `fleetbench backup` share. The bytes are never held in memory; a
 * short or failed download leaves no file behind; the hub's coded error is printed as it said it.
 */
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { once } from 'node:events';
import { CliError } from './cli-errors';
import { fsyncDir, fsyncFile } from '../store/data-dir';
import type { Hub } from './hub-client';

export type DownloadProgress = (bytes: number, total: number | null) => void;

/** Streams `method path` of the hub into `file`; returns the bytes written. */
export async function downloadFromHub(
  hub: Hub,
  method: 'GET' | 'POST',
  path: string,
  file: string,
  progress: DownloadProgress,
): Promise<number> {
  let res: Response;
  try {
    res = await fetch(new URL(path, hub.base), {
      method,
      headers: { authorization: `Bearer ${hub.key}` },
    });
  } catch (err) {
    throw new CliError(`cannot reach the hub at ${hub.base}: ${(err as Error).message}`);
  }
  if (!res.ok || res.body === null) {
    const text = await res.text();
    let msg = text.slice(0, 200);
    try {
      const e = (JSON.parse(text) as { error?: { message?: string; code?: number } }).error;
      msg = e?.message !== undefined ? `${e.message} (code ${e.code ?? res.status})` : msg;
    } catch {
      // not JSON
    }
    throw new CliError(`hub answered ${res.status}: ${msg}`);
  }
  const length = Number(res.headers.get('content-length'));
  const total = Number.isFinite(length) && length > 0 ? length : null;
  const tmp = `${file}.part`;
  const out = createWriteStream(tmp, { mode: 0o600 });
  let bytes = 0;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      if (!out.write(chunk)) await once(out, 'drain');
      progress(bytes, total);
    }
    out.end();
    await once(out, 'finish');
    if (total !== null && bytes !== total) {
      throw new CliError(`the download stopped after ${bytes} of ${total} bytes`);
    }
    await fsyncFile(tmp);
    renameSync(tmp, file);
    await fsyncDir(dirname(resolve(file)));
  } catch (err) {
    out.destroy();
    rmSync(tmp, { force: true });
    if (err instanceof CliError) throw err;
    throw new CliError(`the download failed: ${(err as Error).message}`);
  }
  return bytes;
}

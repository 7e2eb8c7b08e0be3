/**
 * A real hub on port 0 with flasher options (simulator ptys listed as ports, no port polling),
 * plus the two request shapes of the flasher API: multipart uploads and JSON.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHub, type FlasherOptions, type Hub } from '../../../../src/main/hub';
import type { HubOptions } from '../../../../src/main/config';

export interface FlasherHub {
  hub: Hub;
  http: string;
  ws: string;
  key: string;
  json<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    key?: string | null,
  ): Promise<Reply<T>>;
  upload<T = unknown>(path: string, form: FormData, key?: string | null): Promise<Reply<T>>;
  stop(): Promise<void>;
}

export interface Reply<T> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

async function toReply<T>(res: Response): Promise<Reply<T>> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: body as T, text, headers: res.headers };
}

export async function startFlasherHub(
  flasher: FlasherOptions = {},
  options: Partial<HubOptions> = {},
): Promise<FlasherHub> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fb-flasher-hub-'));
  const hub = createHub({
    host: '127.0.0.1',
    port: 0,
    logLevel: 'silent',
    ...options,
    dataDir,
    flasher: { portPollMs: 0, ...flasher },
  });
  const urls = await hub.start();
  const key = hub.masterKey();
  const auth = (k: string | null): Record<string, string> =>
    k === null ? {} : { authorization: `Bearer ${k}` };
  return {
    hub,
    http: urls.http,
    ws: urls.http.replace(/^http/, 'ws'),
    key,
    async json<T>(method: string, path: string, body?: unknown, k: string | null = key) {
      const headers: Record<string, string> = auth(k);
      let payload: string | undefined;
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
        payload = typeof body === 'string' ? body : JSON.stringify(body);
      }
      return toReply<T>(await fetch(urls.http + path, { method, headers, body: payload }));
    },
    async upload<T>(path: string, form: FormData, k: string | null = key) {
      return toReply<T>(
        await fetch(urls.http + path, { method: 'POST', headers: auth(k), body: form }),
      );
    },
    async stop() {
      await hub.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A multipart form: files as [name, bytes] (the name may carry `@0x1000`), plus text fields. */
export function form(
  files: [string, Uint8Array][],
  fields: Record<string, string | string[]> = {},
  fileField = 'file',
): FormData {
  const f = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    for (const v of Array.isArray(value) ? value : [value]) f.append(name, v);
  }
  for (const [name, data] of files) f.append(fileField, new Blob([new Uint8Array(data)]), name);
  return f;
}

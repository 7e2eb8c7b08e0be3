/**
 * The REST shapes of PROTOCOL.md 9 as the OTA benchmarks use them: upload a firmware (multipart,
 * once per run), start a job per device (`POST /devices/:id/ota` with `{"firmware"}`), and watch
 * jobs through the `ota.state` notifications, noting when each state was first seen.
 */
import Type from 'typebox';
import { isValid } from '../src/main/validate';
import type { HubClient } from './http-json';
import { openNotifyStream, parseNotification, type NotifyStream } from './notify-stream';

const Firmware = Type.Object({ id: Type.String(), size: Type.Number() });
export const Job = Type.Object({
  id: Type.String(),
  device: Type.String(),
  state: Type.String(),
  bytes: Type.Number(),
  total: Type.Number(),
  from_fw: Type.String(),
  to_fw: Type.String(),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
  /** Unix ms each state began, by the hub's clock. */
  timeline: Type.Optional(Type.Record(Type.String(), Type.Number())),
});
export type Job = Type.Static<typeof Job>;

export const FINAL_STATES = new Set(['done', 'failed', 'rolled_back', 'cancelled']);

export async function uploadFirmware(
  http: string,
  key: string,
  bytes: Uint8Array,
  name: string,
): Promise<{ id: string; size: number }> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)]), name);
  const res = await fetch(`${http}/api/v2/firmware`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}` },
    body: form,
  });
  const body: unknown = await res.json();
  if (res.status > 201 || !isValid(Firmware, body)) {
    throw new Error(`POST /api/v2/firmware: HTTP ${res.status} ${JSON.stringify(body)}`);
  }
  return body;
}

/** `POST /devices/:id/ota {"firmware"}`; with wait the reply comes when the job has ended. */
export async function startOta(
  client: HubClient,
  device: string,
  firmware: string,
  wait: boolean,
): Promise<Job> {
  const path = `/api/v2/devices/${encodeURIComponent(device)}/ota${wait ? '' : '?wait=0'}`;
  const r = await client.send('POST', path, { firmware }, 600_000);
  const body: unknown = JSON.parse(r.text);
  if (r.status > 202 || !isValid(Job, body)) {
    throw new Error(`POST ${path}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
  }
  return body;
}

export interface JobTimes {
  /** performance.now() when each state was first seen for the job. */
  states: Map<string, number>;
  last: Job;
}

/** Follows `ota.state` for every job; `waitAll` resolves when the given jobs are final. */
export class OtaWatch {
  readonly jobs = new Map<string, JobTimes>();
  private waiters: (() => void)[] = [];

  private constructor(private stream: NotifyStream | null) {}

  static async open(wsBase: string, key: string): Promise<OtaWatch> {
    const w = new OtaWatch(null);
    w.stream = await openNotifyStream(wsBase, key, (text) => w.onText(text));
    return w;
  }

  private onText(text: string): void {
    if (!text.includes('"ota.state"')) return;
    const n = parseNotification(text);
    if (!n || n.name !== 'ota.state' || !isValid(Job, n.data)) return;
    const job = n.data;
    const now = performance.now();
    let t = this.jobs.get(job.id);
    if (!t) this.jobs.set(job.id, (t = { states: new Map(), last: job }));
    if (!t.states.has(job.state)) t.states.set(job.state, now);
    t.last = job;
    if (FINAL_STATES.has(job.state)) for (const w of this.waiters) w();
  }

  async waitAll(ids: readonly string[], timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    const done = (): boolean =>
      ids.every((id) => {
        const s = this.jobs.get(id)?.last.state;
        return s !== undefined && FINAL_STATES.has(s);
      });
    while (!done()) {
      const left = deadline - performance.now();
      if (left <= 0) {
        const open = ids.filter((id) => !FINAL_STATES.has(this.jobs.get(id)?.last.state ?? ''));
        throw new Error(`${open.length} of ${ids.length} OTA jobs not final after ${timeoutMs} ms`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
      this.waiters = [];
    }
  }

  async close(): Promise<void> {
    await this.stream?.close();
  }
}

/**
 * Polls `GET /api/v2/ota?limit=` until every job in `ids` is final (no notification subscriber,
 * so the hub does not also stream every `rpc.in.OTA.Write` to the benchmark). Returns the jobs.
 */
export async function pollJobsFinal(
  client: HubClient,
  ids: readonly string[],
  timeoutMs: number,
  everyMs = 1000,
): Promise<Map<string, Job>> {
  const want = new Set(ids);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const r = await client.send('GET', `/api/v2/ota?limit=${Math.max(100, want.size * 2)}`);
    const list: unknown = JSON.parse(r.text);
    const seen = new Map<string, Job>();
    if (Array.isArray(list)) {
      for (const j of list) if (isValid(Job, j) && want.has(j.id)) seen.set(j.id, j);
    }
    const open = ids.filter((id) => !FINAL_STATES.has(seen.get(id)?.state ?? ''));
    if (open.length === 0) return seen;
    if (performance.now() > deadline) {
      throw new Error(`${open.length} of ${ids.length} OTA jobs not final after ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

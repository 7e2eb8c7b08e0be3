/**
 * Shared setup of the OTA integration tests: a real hub on port 0 (short reboot window) and
 * simulated devices of either firmware family, plus the REST calls of PROTOCOL.md 9.
 */
import { SimDevice, type SimDeviceOptions } from '../../../src/main/sim/sim-device';
import { espAppImage, mosFwZip } from '../../../src/main/sim/sim-firmware-files';
import type { SimFamily } from '../../../src/main/sim/sim-ota';
import type { HubOptions } from '../../../src/main/config';
import type { DeviceObject, Json } from '../../../src/shared/types';
import type { OtaJob } from '../../../src/shared/ota';
import type { FirmwareObject } from '../../../src/shared/firmware';
import {
  deviceUrl,
  startTestHub,
  waitFor,
  type ApiResult,
  type TestHub,
} from '../../support/hub-harness';

export interface OtaRig {
  t: TestHub;
  devices: SimDevice[];
  addDevice(id: string, family: SimFamily, opts?: Partial<SimDeviceOptions>): Promise<SimDevice>;
  /** POST /devices/:id/ota with a multipart file. */
  upload(id: string, file: Buffer, query?: string, name?: string): Promise<ApiResult<OtaJob>>;
  /** POST /devices/:id/ota with {"firmware"}. */
  send(id: string, firmware: string, query?: string): Promise<ApiResult<OtaJob>>;
  addFirmware(file: Buffer, name?: string): Promise<FirmwareObject>;
  info(id: string): Promise<Record<string, Json>>;
  waitJob(job: string, pred: (j: OtaJob) => boolean, timeoutMs?: number): Promise<OtaJob>;
  stop(): Promise<void>;
}

export async function otaRig(options: Partial<HubOptions> = {}): Promise<OtaRig> {
  const t = await startTestHub({
    ...options,
    ota: { rebootWindowMs: 5000, ...options.ota },
  });
  const devices: SimDevice[] = [];
  const info = async (id: string): Promise<Record<string, Json>> => {
    const r = await t.api<DeviceObject>('GET', `/api/v2/devices/${id}`);
    return (r.body.shadow.state.reported['ota'] ?? {}) as Record<string, Json>;
  };
  const multipart = async (path: string, file: Buffer, name: string): Promise<ApiResult<never>> => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(file)]), name);
    const res = await fetch(t.http + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.key}` },
      body: form,
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // keep the text
    }
    return { status: res.status, body: body as never, text };
  };
  return {
    t,
    devices,
    async addDevice(id, family, opts = {}) {
      const created = await t.createDevice({ id });
      const d = new SimDevice({
        url: deviceUrl(t),
        password: created.token,
        id,
        family,
        arch: 'esp32',
        otaRebootDelayMs: 30,
        reconnect: { initialMs: 50, maxMs: 100 },
        ...opts,
      });
      devices.push(d);
      d.start();
      await waitFor(
        async () => d.ready && (await info(id))['fw_id'] !== undefined,
        5000,
        `device ${id} online`,
      );
      return d;
    },
    upload: (id, file, query = '', name = 'fw.bin') =>
      multipart(`/api/v2/devices/${id}/ota${query}`, file, name),
    send: (id, firmware, query = '') =>
      t.api<OtaJob>('POST', `/api/v2/devices/${id}/ota${query}`, { firmware }),
    async addFirmware(file, name = 'fw.bin') {
      const r = await multipart('/api/v2/firmware', file, name);
      if (r.status !== 201 && r.status !== 200) throw new Error(`add firmware: ${r.text}`);
      return r.body as FirmwareObject;
    },
    info,
    async waitJob(job, pred, timeoutMs = 10_000) {
      let last: OtaJob | undefined;
      await waitFor(
        async () => {
          last = (await t.api<OtaJob>('GET', `/api/v2/ota/${job}`)).body;
          return pred(last);
        },
        timeoutMs,
        `job ${job}`,
      );
      if (!last) throw new Error('unreachable');
      return last;
    },
    async stop() {
      await Promise.all(devices.map((d) => d.stop()));
      await t.stop();
    },
  };
}

export const appImage = (n: number, size = 7000): Buffer =>
  espAppImage({ date: 'Dec  6 2026', time: `10:00:0${n}`, size, seed: n });
export const appFwId = (n: number): string => `20261206-10000${n}`;
export const mosZip = (n: number, bodyBytes = 7000): Buffer =>
  mosFwZip({ version: `2.0.${n}`, build_id: `build-${n}`, bodyBytes, seed: n });
export const imageFor = (family: SimFamily, n: number, size = 7000): Buffer =>
  family === 'mos' ? mosZip(n, size) : appImage(n, size);
export const fwIdFor = (family: SimFamily, n: number): string =>
  family === 'mos' ? `build-${n}` : appFwId(n);

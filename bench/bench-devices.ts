/**
 * Registers the benchmark's devices through the REST API (`POST /api/v2/devices`, PROTOCOL.md 4)
 * with several requests in flight, and writes their passwords one a line, the file format of
 * `fleetbench sim --passwords`. Creating devices through `fleetbench devices add` would start a
 * process per device.
 */
import { writeFileSync } from 'node:fs';
import Type from 'typebox';
import { isValid } from '../src/main/validate';
import type { HubClient } from './http-json';

export const CreatedDevice = Type.Object({
  id: Type.String({ minLength: 1 }),
  token: Type.String({ minLength: 1 }),
});
export type CreatedDevice = Type.Static<typeof CreatedDevice>;

export interface CreateResult {
  devices: CreatedDevice[];
  ms: number;
}

export async function createDevices(
  client: HubClient,
  count: number,
  opts: { concurrency?: number; prefix?: string } = {},
): Promise<CreateResult> {
  const prefix = opts.prefix ?? 'bench-';
  const devices = new Array<CreatedDevice>(count);
  const t0 = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const body = await client.json('POST', '/api/v2/devices', { name: `${prefix}${i + 1}` });
      if (!isValid(CreatedDevice, body)) throw new Error('POST /api/v2/devices: no id and token');
      devices[i] = { id: body.id, token: body.token };
    }
  };
  const workers = Array.from({ length: Math.min(opts.concurrency ?? 16, count) }, () =>
    worker().catch((e: unknown) => {
      next = count; // stop handing out work after the first failure
      throw e;
    }),
  );
  const failed = (await Promise.allSettled(workers)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return { devices, ms: performance.now() - t0 };
}

export function writePasswords(file: string, devices: readonly CreatedDevice[]): void {
  writeFileSync(file, devices.map((d) => d.token).join('\n') + '\n', { mode: 0o600 });
}

/**
 * The dashboard's flasher page logic (api/flasher-api.ts + features/flasher/flasher-store.ts)
 * against a real hub and the ESP32 simulator: ports listed, a job submitted from "browser" file
 * blobs, its progress and end applied live from `flash.*` notifications, errors surfaced.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createFlasherApi } from '../../../../src/renderer/api/flasher-api';
import type { SocketLike } from '../../../../src/renderer/api/notify-stream';
import { createFlasherStore } from '../../../../src/renderer/features/flasher/flasher-store';
import {
  parseAddressText,
  progressPercent,
  stateLabel,
} from '../../../../src/renderer/features/flasher/job-format';
import { firmwareLike, startSim, type SimRig } from '../../../support/esp32-sim-harness';
import { until } from '../jobs/job-harness';
import { startFlasherHub, type FlasherHub } from './flasher-hub';

let t: FlasherHub;
let rig: SimRig;
const extra: string[] = [];
const cleanups: (() => void)[] = [];
beforeAll(async () => {
  rig = await startSim();
  extra.push(rig.host);
  t = await startFlasherHub({ extraPorts: extra });
});
afterAll(async () => {
  await t.stop();
  await rig.close();
});
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

async function setup() {
  const api = createFlasherApi({
    baseUrl: t.http,
    key: t.key,
    createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
  });
  const errors: string[] = [];
  const store = createFlasherStore({
    api,
    reportError: (e, ctx) => errors.push(`${ctx}: ${e instanceof Error ? e.message : String(e)}`),
  });
  const notified: { job: string; state: string }[] = [];
  let open = false;
  const stop = api.events(
    (batch) => {
      for (const n of batch) {
        const d = n.data as { job?: string; state?: { state?: string } };
        if (n.name === 'flash.state' && d.job && d.state?.state) {
          notified.push({ job: d.job, state: d.state.state });
        }
      }
      store.getState().applyNotifications(batch);
    },
    (status) => {
      if (status.state === 'open') open = true;
    },
  );
  cleanups.push(stop);
  await until(() => open, 5000, 'notify stream open');
  return { api, store, errors, notified };
}

describe('dashboard flasher page logic', () => {
  it('lists ports, flashes uploaded blobs and follows the job live to done', async () => {
    const { store, errors, notified } = await setup();
    await store.getState().refresh();
    expect(store.getState().ports.find((p) => p.path === rig.host)).toMatchObject({ owner: null });
    const image = firmwareLike(64 * 1024);
    const id = await store
      .getState()
      .flash([{ file: new Blob([new Uint8Array(image)]), name: 'app.bin', address: 0x10000 }], {
        port: rig.host,
        baud: 921600,
      });
    expect(errors).toEqual([]);
    expect(id).toMatch(/^j/);
    await until(
      () => store.getState().jobs.find((j) => j.id === id)?.state.state === 'done',
      20_000,
      'done',
    );
    const job = store.getState().jobs.find((j) => j.id === id)!;
    expect(stateLabel(job.state)).toMatch(/^Done in/);
    expect(progressPercent(job.state)).toBe(100);
    // The page learnt about it from the notify stream, transition by transition.
    const states = notified.filter((n) => n.job === id).map((n) => n.state);
    expect(states).toEqual(expect.arrayContaining(['writing', 'verifying', 'done']));
    expect(Buffer.compare(rig.sim.flash.subarray(0x10000, 0x10000 + image.length), image)).toBe(0);
  });

  it('reports a refused request with the hub message and keeps working', async () => {
    const { store, errors } = await setup();
    const id = await store
      .getState()
      .flash([{ file: new Blob([new Uint8Array(8)]), name: 'a.bin', address: 0x10001 }], {
        port: rig.host,
      });
    expect(id).toBeNull();
    // A refused request is shown on the form (with the hub's hint split off), not as a toast.
    expect(errors).toEqual([]);
    expect(store.getState().submitError).toMatchObject({
      code: 4003,
      message: expect.stringMatching(/0x1000/),
      hint: expect.stringMatching(/sector/),
    });
    expect(store.getState().submitting).toBe(false);
    expect(parseAddressText('')).toBeUndefined();
    expect(parseAddressText('0x1000')).toBe(0x1000);
    expect(parseAddressText('12k')).toBeNull();
  });
});

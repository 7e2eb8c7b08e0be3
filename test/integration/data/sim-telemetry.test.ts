/**
 * Simulated devices store realistic readings through their spool (sim-sensors.ts): with the
 * demo fleet's data_write query in their ACL, the rows reach the account database.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SimDevice } from '../../../src/main/sim/sim-device';
import { SIM_DATA_QUERY, SIM_DATA_WRITE } from '../../../src/main/sim/sim-sensors';
import { deviceUrl, startTestHub, waitFor, type TestHub } from '../../support/hub-harness';
import { accountRows, dataDevice } from './data-rig';

let t: TestHub | null = null;
let sim: SimDevice | null = null;
afterEach(async () => {
  await sim?.stop();
  await t?.stop();
  t = sim = null;
});

describe('simulated telemetry', () => {
  it('stores temperature, humidity and a counter with the demo data_write query', async () => {
    t = await startTestHub();
    const dev = await dataDevice(t, { data_write: { [SIM_DATA_QUERY]: SIM_DATA_WRITE } });
    sim = new SimDevice({
      url: deviceUrl(t),
      password: dev.token,
      id: dev.id,
      dataIntervalMs: 50,
      seed: 9,
    });
    sim.start();
    type Row = { timestamp: string; t: number; h: number; c: number };
    const read = (): Row[] =>
      accountRows<Row>(
        t!,
        "SELECT timestamp, message->>'temperature' AS t, message->>'humidity' AS h, message->>'counter' AS c FROM data WHERE device_id = ? AND topic = 'telemetry' ORDER BY c",
        dev.id,
      );
    await waitFor(() => read().length >= 20, 20_000);
    const rows = read();
    // No record lost while drains ran (the live spool is moved aside before it is read): the
    // counters stored are 1..n without a gap.
    expect(rows.map((r) => r.c)).toEqual(rows.map((_, i) => i + 1));
    for (const r of rows) {
      expect(r.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      expect(r.t).toBeGreaterThan(10);
      expect(r.h).toBeGreaterThan(10);
    }
  });
});

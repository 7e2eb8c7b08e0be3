/**
 * `serve --demo N`: N simulated devices inside the hub's process, so a newcomer sees a live fleet
 * at once. They are ordinary registered devices (`demo-1`..`demo-N`), reused on the next start.
 */
import type { Hub } from '../hub';
import { SimFleet } from '../sim/sim-fleet';

export async function startDemoFleet(hub: Hub, count: number): Promise<() => Promise<void>> {
  const { devices } = hub.services();
  const passwords: string[] = [];
  for (let i = 1; i <= count; i++) {
    const id = `demo-${i}`;
    const dev = devices.find(id) ?? devices.create({ id, name: `Demo device ${i}` });
    passwords.push(dev.token);
  }
  const url = hub.urls().http.replace(/^http/, 'ws') + '/api/v2/rpc';
  const fleet = new SimFleet({
    url,
    passwords,
    shadowIntervalMs: 10_000,
    logIntervalMs: 15_000,
    rampPerSecond: 200,
  });
  fleet.start();
  return () => fleet.stop();
}

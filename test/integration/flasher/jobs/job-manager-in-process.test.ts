/**
 * `runIn: 'in-process'` (what `fleetbench flash` uses, issue 11): the job runs on the manager's
 * own loop, with no worker process at all (a worker entry that does not exist proves it), and
 * still ends in `done` with the port released, or in `cancelled` when cancelled.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildFlashRequest } from '../../../../src/main/flasher/jobs/flash-request';
import { FlashJobManager } from '../../../../src/main/flasher/jobs/job-manager';
import { PortRegistry } from '../../../../src/main/flasher/serial/port-registry';
import { fdsOpenOn, firmwareLike, startSim } from '../../../support/esp32-sim-harness';
import { recordStates, workerPids } from './job-harness';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

function inProcessManager(): { m: FlashJobManager; registry: PortRegistry } {
  const registry = new PortRegistry();
  const m = new FlashJobManager({
    registry,
    runIn: 'in-process',
    worker: { workerFile: '/nonexistent/flash-worker.js' },
  });
  cleanups.push(() => m.close());
  return { m, registry };
}

describe('FlashJobManager in-process', () => {
  it('flashes an ESP32 without a worker process and releases the port', async () => {
    const rig = await startSim();
    cleanups.push(() => rig.close());
    const { m, registry } = inProcessManager();
    const states = recordStates(m);
    const image = firmwareLike(96 * 1024);
    const job = await m.submit({
      request: buildFlashRequest({ port: rig.host, baud: 460800 }, [
        { name: 'app.bin', data: image, address: 0x10000 },
      ]),
    });
    let workersSeen = 0;
    m.on('state', () => {
      workersSeen = Math.max(workersSeen, workerPids().length);
    });
    const end = await m.wait(job.id);
    expect(end.state).toMatchObject({ state: 'done', chip: { chip: 'ESP32' } });
    expect(states.names(job.id)).toEqual([
      'queued',
      'detecting',
      'connecting',
      'uploading_stub',
      'writing',
      'verifying',
      'resetting',
      'done',
    ]);
    expect(workersSeen).toBe(0);
    expect(Buffer.compare(rig.sim.flash.subarray(0x10000, 0x10000 + image.length), image)).toBe(0);
    expect(registry.owner(rig.host)).toBeNull();
    expect(fdsOpenOn(rig.hostDevice)).toBe(0);
  });

  it('cancels a running in-process job', async () => {
    const rig = await startSim({ throttle: true });
    cleanups.push(() => rig.close());
    const { m } = inProcessManager();
    const job = await m.submit({
      request: buildFlashRequest({ port: rig.host, baud: 115200 }, [
        { name: 'app.bin', data: firmwareLike(256 * 1024), address: 0x10000 },
      ]),
    });
    m.on('state', (j, s) => {
      if (j.id === job.id && s.state === 'writing') m.cancel(job.id);
    });
    const end = await m.wait(job.id);
    expect(end.state.state).toBe('cancelled');
    expect(fdsOpenOn(rig.hostDevice)).toBe(0);
  });
});

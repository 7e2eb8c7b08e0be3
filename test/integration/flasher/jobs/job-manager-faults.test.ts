/**
 * Flash jobs that do not go well, with the real worker process and real ptys: cancel while
 * writing, the board unplugged mid-write, the worker process killed, a worker that goes silent.
 * Every one must end (never a hung job) with the port lease released and no descriptor left.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildFlashRequest } from '../../../../src/main/flasher/jobs/flash-request';
import { FlashJobManager } from '../../../../src/main/flasher/jobs/job-manager';
import { PortRegistry } from '../../../../src/main/flasher/serial/port-registry';
import { fdsOpenOn, firmwareLike, startSim } from '../../../support/esp32-sim-harness';
import { openPtyPair } from '../../../support/pty-pair';
import { Stm32Sim } from '../../../support/stm32-sim';
import { recordStates, until, workerPids } from './job-harness';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

function manager(opts: Partial<ConstructorParameters<typeof FlashJobManager>[0]> = {}) {
  const registry = new PortRegistry();
  const m = new FlashJobManager({ registry, ...opts });
  cleanups.push(() => m.close());
  return { m, registry };
}

async function slowEsp() {
  // Throttled at 115200: 256 KiB of random-ish data takes many seconds on the wire.
  const rig = await startSim({ throttle: true, baud: 115200 });
  cleanups.push(() => rig.close());
  const request = buildFlashRequest({ port: rig.host, baud: 115200 }, [
    { name: 'app.bin', data: firmwareLike(256 * 1024), address: 0x10000 },
  ]);
  return { rig, request };
}

describe('flash jobs that fail', () => {
  it('cancel while writing: the job ends cancelled within seconds and the port is free', async () => {
    const { rig, request } = await slowEsp();
    const { m, registry } = manager();
    const states = recordStates(m);
    const job = await m.submit({ request });
    await until(() => states.of(job.id).some((s) => s.state === 'writing'), 20_000, 'writing');
    const t = Date.now();
    expect(m.cancel(job.id).state.state).toBe('writing');
    const end = await m.wait(job.id);
    expect(end.state).toEqual({ state: 'cancelled' });
    expect(Date.now() - t).toBeLessThan(4000);
    expect(registry.owner(rig.host)).toBeNull();
    expect(fdsOpenOn(rig.hostDevice)).toBe(0);
    expect(workerPids()).toEqual([]);
    // Cancelling a finished job changes nothing.
    expect(m.cancel(job.id).state).toEqual({ state: 'cancelled' });
  });

  it('cancel while the worker starts up: it stops at once, not when the kill grace runs out', async () => {
    const { rig, request } = await slowEsp();
    const { m, registry } = manager({ worker: { cancelGraceMs: 10_000 } });
    const job = await m.submit({ request });
    // The cancel reaches the worker while it opens the port: closing a port that is not open yet
    // did nothing, and esptool-js's connect loop then ran on until the grace kill.
    const t = Date.now();
    m.cancel(job.id);
    expect((await m.wait(job.id)).state).toEqual({ state: 'cancelled' });
    expect(Date.now() - t).toBeLessThan(2000);
    expect(registry.owner(rig.host)).toBeNull();
    expect(fdsOpenOn(rig.hostDevice)).toBe(0);
  });

  it('board unplugged mid-write: failed with a code and a hint, port released', async () => {
    const { rig, request } = await slowEsp();
    const { m, registry } = manager();
    const states = recordStates(m);
    const job = await m.submit({ request });
    await until(() => states.of(job.id).some((s) => s.state === 'writing'), 20_000, 'writing');
    await rig.close(); // socat goes away: the pty the worker holds is hung up
    const end = await m.wait(job.id);
    expect(end.state).toMatchObject({
      state: 'failed',
      code: expect.stringMatching(/^(port_vanished|timeout)$/),
      message: expect.any(String),
      hint: expect.any(String),
    });
    expect(registry.owner(request.port)).toBeNull();
    expect(fdsOpenOn(rig.hostDevice)).toBe(0);
  });

  it('worker process killed: failed internal with a hint, port released, next job runs', async () => {
    const { rig, request } = await slowEsp();
    const { m, registry } = manager();
    const states = recordStates(m);
    const job = await m.submit({ request });
    await until(() => states.of(job.id).some((s) => s.state === 'writing'), 20_000, 'writing');
    const pids = workerPids();
    expect(pids).toHaveLength(1);
    process.kill(pids[0]!, 'SIGKILL');
    const end = await m.wait(job.id);
    expect(end.state).toMatchObject({
      state: 'failed',
      code: 'internal',
      message: expect.stringMatching(/killed \(SIGKILL\)/),
      hint: expect.any(String),
    });
    expect(registry.owner(rig.host)).toBeNull();
    expect(fdsOpenOn(rig.hostDevice)).toBe(0);
    // The OS dropped the dead worker's lock on the port: another job can open it.
    const next = await m.submit({ request });
    await until(() => states.of(next.id).some((s) => s.state === 'connecting'), 20_000, 'connect');
    m.cancel(next.id);
    await m.wait(next.id);
  });

  it('a worker that goes silent is stopped by the stall watchdog (failed timeout)', async () => {
    const pair = await openPtyPair();
    cleanups.push(() => pair.close());
    // The bootloader swallows the ACK of the first write and the client waits 30 s for it.
    const stm = new Stm32Sim({ path: pair.a, faults: [{ kind: 'drop', command: 'write', at: 1 }] });
    await stm.start();
    cleanups.push(() => stm.stop());
    const { m, registry } = manager({
      worker: {
        stallTimeoutMs: 1500,
        tuning: { stm32: { timeouts: { writeMs: 30_000 } } },
      },
    });
    const job = await m.submit({
      request: buildFlashRequest({ port: pair.b, chip: 'stm32' }, [
        { name: 'fw.bin', data: firmwareLike(2048) },
      ]),
    });
    const t = Date.now();
    const end = await m.wait(job.id);
    expect(end.state).toMatchObject({ state: 'failed', code: 'timeout', hint: expect.any(String) });
    expect(Date.now() - t).toBeLessThan(10_000);
    expect(registry.owner(pair.b)).toBeNull();
    expect(workerPids()).toEqual([]);
  });
});

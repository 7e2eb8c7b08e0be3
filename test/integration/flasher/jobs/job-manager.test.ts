/**
 * The flash job manager with the real worker process against the ESP32 and STM32 simulators over
 * socat ptys: end to end, one owner per port, bounded concurrency, bad requests refused before
 * anything starts. Failure paths (cancel, unplug, crash, stall) are in job-manager-faults.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HubError } from '../../../../src/shared/errors';
import { buildFlashRequest } from '../../../../src/main/flasher/jobs/flash-request';
import { FlashJobManager } from '../../../../src/main/flasher/jobs/job-manager';
import { PortRegistry } from '../../../../src/main/flasher/serial/port-registry';
import { fdsOpenOn, firmwareLike, startSim, type SimRig } from '../../../support/esp32-sim-harness';
import { openPtyPair } from '../../../support/pty-pair';
import { Stm32Sim } from '../../../support/stm32-sim';
import { recordStates, workerPids } from './job-harness';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

async function sim(opts: Parameters<typeof startSim>[0] = {}): Promise<SimRig> {
  const rig = await startSim(opts);
  cleanups.push(() => rig.close());
  return rig;
}

function manager(opts: Partial<ConstructorParameters<typeof FlashJobManager>[0]> = {}) {
  const registry = new PortRegistry();
  const m = new FlashJobManager({ registry, ...opts });
  cleanups.push(() => m.close());
  return { m, registry };
}

function thrown(fn: () => unknown): HubError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HubError);
    return err as HubError;
  }
  throw new Error('expected a HubError');
}

/** The HubError an async call rejects with. */
async function rejected(fn: () => Promise<unknown>): Promise<HubError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HubError);
    return err as HubError;
  }
  throw new Error('expected a HubError');
}

describe('FlashJobManager', () => {
  it('flashes an ESP32 in a worker process, reports every state, releases the port', async () => {
    const rig = await sim({ mac: 'a4:cf:12:01:02:03' });
    const { m, registry } = manager();
    const states = recordStates(m);
    const image = firmwareLike(192 * 1024);
    const job = await m.submit({
      request: buildFlashRequest({ port: rig.host, baud: 921600 }, [
        { name: 'app.bin', data: image, address: 0x10000 },
      ]),
    });
    expect(job.state).toEqual({ state: 'queued' });
    expect(registry.owner(rig.host)).toEqual({ kind: 'flash', id: job.id });

    const done = await m.wait(job.id);
    expect(done.state).toMatchObject({
      state: 'done',
      chip: { chip: 'ESP32', mac: 'a4:cf:12:01:02:03' },
    });
    expect(Buffer.compare(rig.sim.flash.subarray(0x10000, 0x10000 + image.length), image)).toBe(0);
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
    expect(done.history.map((h) => h.state.state)).toEqual(states.names(job.id));
    expect(done.result?.bytesWritten).toBe(image.length);
    // A pty has no DTR/RTS: the flasher says so instead of failing.
    expect(done.result?.warnings.join('\n')).toMatch(/no modem control lines/);
    expect(done.result!.wireBytes).toBeLessThan(image.length); // compressed
    expect(done.files).toEqual([{ name: 'app.bin', size: image.length, address: 0x10000 }]);
    // The port is free: no lease, no descriptor, no worker left.
    expect(registry.owner(rig.host)).toBeNull();
    expect(fdsOpenOn(rig.hostDevice)).toBe(0);
    expect(workerPids()).toEqual([]);
    expect(m.list().map((j) => j.id)).toEqual([job.id]);
    expect(m.logOf(job.id).some((l) => /Chip: ESP32/.test(l))).toBe(true);
  });

  it('flashes an STM32 (chip stm32, Intel HEX inferred) through the same worker', async () => {
    const pair = await openPtyPair();
    cleanups.push(() => pair.close());
    const stm = new Stm32Sim({ path: pair.a, part: 'f103' });
    await stm.start();
    cleanups.push(() => stm.stop());
    const { m } = manager();
    const data = firmwareLike(6000);
    const job = await m.submit({
      request: buildFlashRequest({ port: pair.b, chip: 'stm32' }, [
        { name: 'fw.bin', data, address: 0x08000000 },
      ]),
    });
    expect(job.kind).toBe('stm32');
    const done = await m.wait(job.id);
    expect(done.state).toMatchObject({
      state: 'done',
      chip: { chip: expect.stringMatching(/STM32F10/) },
    });
    expect(Buffer.compare(stm.flash.subarray(0, data.length), data)).toBe(0);
    expect(done.result?.bytesWritten).toBe(data.length);
  });

  it('gives one owner per port: a second job on the port is refused while the first runs', async () => {
    const rig = await sim({ throttle: true, baud: 115200 });
    const { m, registry } = manager();
    const request = buildFlashRequest({ port: rig.host, baud: 115200 }, [
      { name: 'app.bin', data: firmwareLike(64 * 1024), address: 0x10000 },
    ]);
    const first = await m.submit({ request });
    const err = await rejected(() => m.submit({ request }));
    expect(err.kind).toBe('port_busy');
    expect(err.status).toBe(409);
    expect(err.message).toContain(`flash job ${first.id}`);
    // The same device under another name is the same port.
    const err2 = await rejected(() => m.submit({ request: { ...request, port: rig.hostDevice } }));
    expect(err2.kind).toBe('port_busy');
    expect(m.list()).toHaveLength(1);
    m.cancel(first.id);
    expect((await m.wait(first.id)).state.state).toBe('cancelled');
    expect(registry.owner(rig.host)).toBeNull();
    // Free again: a new job takes the port.
    const again = await m.submit({ request });
    m.cancel(again.id);
    await m.wait(again.id);
  });

  it('runs at most `concurrency` jobs at once; the others wait queued, holding their port', async () => {
    const a = await sim();
    const b = await sim();
    const { m, registry } = manager({ concurrency: 1 });
    const states = recordStates(m);
    const img = firmwareLike(32 * 1024);
    const j1 = await m.submit({
      request: buildFlashRequest({ port: a.host }, [
        { name: 'a.bin', data: img, address: 0x10000 },
      ]),
    });
    const j2 = await m.submit({
      request: buildFlashRequest({ port: b.host }, [
        { name: 'b.bin', data: img, address: 0x10000 },
      ]),
    });
    expect(registry.owner(b.host)).toEqual({ kind: 'flash', id: j2.id });
    // Queued and running jobs hold their images ...
    expect(m.heldImageBytes).toBe(2 * img.length);
    await m.wait(j1.id);
    // ... a finished one does not (issue 7 item 20): only the queued job's bytes are left.
    expect(m.heldImageBytes).toBe(img.length);
    await m.wait(j2.id);
    const order = states.all.map((x) => `${x.job === j1.id ? 1 : 2}:${x.state.state}`);
    expect(order.indexOf('2:detecting')).toBeGreaterThan(order.indexOf('1:done'));
    expect(m.get(j2.id).state.state).toBe('done');
    expect(Buffer.compare(b.sim.flash.subarray(0x10000, 0x10000 + img.length), img)).toBe(0);
    expect(m.heldImageBytes).toBe(0);
    // The kept records are metadata: names and sizes, no bytes anywhere in them.
    expect(m.get(j1.id).files).toEqual([{ name: 'a.bin', size: img.length, address: 0x10000 }]);
    const buffers = (v: unknown): number =>
      ArrayBuffer.isView(v)
        ? 1
        : v !== null && typeof v === 'object'
          ? Object.values(v).reduce((n: number, x) => n + buffers(x), 0)
          : 0;
    expect(buffers(m.list())).toBe(0);
  });

  it('lets go of the images of a job cancelled while queued', async () => {
    const a = await sim();
    const b = await sim();
    const { m } = manager({ concurrency: 1 });
    const img = firmwareLike(16 * 1024);
    const j1 = await m.submit({
      request: buildFlashRequest({ port: a.host }, [
        { name: 'a.bin', data: img, address: 0x10000 },
      ]),
    });
    const j2 = await m.submit({
      request: buildFlashRequest({ port: b.host }, [
        { name: 'b.bin', data: img, address: 0x10000 },
      ]),
    });
    expect(m.cancel(j2.id).state).toEqual({ state: 'cancelled' });
    expect(m.heldImageBytes).toBe(img.length);
    await m.wait(j1.id);
    expect(m.heldImageBytes).toBe(0);
  });

  it('refuses bad requests with coded errors before leasing anything', async () => {
    const rig = await sim();
    const { m, registry } = manager();
    const file = { name: 'app.bin', data: firmwareLike(4096), address: 0x10000 };
    const cases: [() => Promise<unknown>, string][] = [
      [() => m.submit({ request: buildFlashRequest({ port: rig.host }, []) }), 'validation_failed'],
      [
        () =>
          m.submit({
            request: buildFlashRequest({ port: rig.host }, [{ ...file, address: 0x10001 }]),
          }),
        'image_invalid',
      ],
      [
        () => m.submit({ request: buildFlashRequest({ port: rig.host, baud: 2_000_000 }, [file]) }),
        'validation_failed',
      ],
      [
        () => m.submit({ request: buildFlashRequest({ port: '/dev/does-not-exist' }, [file]) }),
        'port_not_found',
      ],
      [
        () =>
          m.submit({
            request: buildFlashRequest({ port: rig.host }, [file]),
            provision: { kind: 'mos' },
          }),
        'not_implemented',
      ],
      [
        () =>
          m.submit({
            request: buildFlashRequest({ port: rig.host }, [file]),
            provision: { kind: 'improv' },
          }),
        'validation_failed',
      ],
      [
        () =>
          m.submit({
            request: buildFlashRequest({ port: rig.host, chip: 'stm32' }, [
              { name: 'bad.hex', data: Buffer.from(':zz\n') },
            ]),
          }),
        'image_invalid',
      ],
      [
        () =>
          m.submit({
            request: buildFlashRequest(
              { port: rig.host, chip: 'stm32', stm32: { entrySequence: 'dtr,gpio' } },
              [{ name: 'fw.bin', data: firmwareLike(512) }],
            ),
          }),
        'validation_failed',
      ],
    ];
    for (const [fn, kind] of cases) expect((await rejected(fn)).kind, kind).toBe(kind);
    expect(registry.list()).toEqual([]);
    expect(m.list()).toEqual([]);
    expect(thrown(() => m.get('nope')).kind).toBe('job_not_found');
    expect(thrown(() => m.cancel('nope')).kind).toBe('job_not_found');
    // Still usable afterwards.
    const ok = await m.wait(
      (await m.submit({ request: buildFlashRequest({ port: rig.host }, [file]) })).id,
    );
    expect(ok.state.state).toBe('done');
  });
});

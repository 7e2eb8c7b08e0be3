/**
 * Everything that can go wrong in an STM32 flash job, over a real pty with the simulator's fault
 * injection: each ends in a thrown, coded error (never a reported `failed`), the port is released,
 * and nothing is written to flash when the job is refused up front.
 */
import { afterEach, describe, it, expect } from 'vitest';
import { SerialPort } from 'serialport';
import { flashStm32 } from '../../../../src/main/flasher/stm32/flash-stm32';
import { FlashError, type FlashState } from '../../../../src/shared/flash-state';
import { HubError } from '../../../../src/shared/errors';
import { FAST, image, openBench, portIsFree, type Bench } from './harness';

async function failure(p: Promise<unknown>): Promise<FlashError | HubError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (err instanceof FlashError || err instanceof HubError) return err;
  throw new Error(`expected a coded error, got ${String(err)}`);
}

function codeOf(err: FlashError | HubError): string {
  return err instanceof FlashError ? err.code : err.kind;
}

describe('flashStm32 failure paths', () => {
  let bench: Bench | null = null;
  afterEach(async () => {
    await bench?.close();
    bench = null;
  });

  const never = (states: FlashState[]): void =>
    expect(states.some((s) => s.state === 'failed')).toBe(false);

  it('refuses an image larger than the flash before erasing anything', async () => {
    bench = await openBench({ part: 'f103' });
    const err = await failure(
      flashStm32(
        { path: bench.pair.b, image: { kind: 'bin', data: image(128 * 1024 + 4) } },
        bench.report,
        undefined,
        FAST,
      ),
    );
    expect(codeOf(err)).toBe('image_too_large');
    expect(bench.sim.commands.filter((c) => /ERASE|WRITE/.test(c))).toEqual([]);
    expect(await portIsFree(bench.pair.b)).toBe(true);
    never(bench.states);
  });

  it('refuses an unknown product ID with wrong_chip', async () => {
    bench = await openBench({ part: 'f103', pid: 0x0999 });
    const err = await failure(
      flashStm32(
        { path: bench.pair.b, image: { kind: 'bin', data: image(64) } },
        bench.report,
        undefined,
        FAST,
      ),
    );
    expect(codeOf(err)).toBe('wrong_chip');
    expect(err.message).toContain('0x0999');
    expect(bench.sim.count('erase')).toBe(0);
    expect(await portIsFree(bench.pair.b)).toBe(true);
  });

  it('rejects a broken HEX file and a malformed request without touching the port', async () => {
    bench = await openBench({ part: 'f103' });
    const hex = await failure(
      flashStm32({ path: bench.pair.b, image: { kind: 'hex', text: ':10ZZ' } }, bench.report),
    );
    expect(codeOf(hex)).toBe('bad_image');
    const bad = await failure(
      flashStm32(
        { path: bench.pair.b, image: { kind: 'bin', data: image(4) }, baud: 12 },
        bench.report,
      ),
    );
    expect(codeOf(bad)).toBe('validation_failed');
    expect(bad.message).toMatch(/baud/);
    const seq = await failure(
      flashStm32(
        { path: bench.pair.b, image: { kind: 'bin', data: image(4) }, entrySequence: 'dtr,gpio4' },
        bench.report,
      ),
    );
    expect(codeOf(seq)).toBe('validation_failed');
    expect(bench.states).toEqual([]);
    expect(bench.sim.commands).toEqual([]);
  });

  it('names a missing port and a busy one', async () => {
    const states: FlashState[] = [];
    const missing = await failure(
      flashStm32(
        { path: '/dev/fleetbench-no-such-tty', image: { kind: 'bin', data: image(4) } },
        (s) => states.push(s),
      ),
    );
    expect(codeOf(missing)).toBe('port_not_found');

    bench = await openBench({ part: 'f103' });
    const holder = new SerialPort({ path: bench.pair.b, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => holder.open((e) => (e ? reject(e) : resolve())));
    try {
      const busy = await failure(
        flashStm32({ path: bench.pair.b, image: { kind: 'bin', data: image(4) } }, bench.report),
      );
      expect(codeOf(busy)).toBe('port_busy');
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });

  it('no bootloader answering is no_sync, with the pty hint when an entry sequence was asked for', async () => {
    bench = await openBench({ part: 'f103' });
    await bench.sim.stop(); // nobody on the other end
    const err = await failure(
      flashStm32(
        { path: bench.pair.b, image: { kind: 'bin', data: image(4) }, entrySequence: '-dtr,rts' },
        bench.report,
        undefined,
        { ...FAST, sleep: async () => {} },
      ),
    );
    expect(codeOf(err)).toBe('no_sync');
    expect((err as FlashError).hint).toMatch(/no reset lines/);
    expect(bench.states.filter((s) => s.state === 'connecting')).toEqual([
      { state: 'connecting', attempt: 1 },
      { state: 'connecting', attempt: 2 },
    ]);
    expect(await portIsFree(bench.pair.b)).toBe(true);
  });

  it('a NACKed write ends in protocol_error', async () => {
    bench = await openBench({ part: 'f4', faults: [{ kind: 'nack', command: 'write', at: 5 }] });
    const err = await failure(
      flashStm32(
        { path: bench.pair.b, image: { kind: 'bin', data: image(4096) } },
        bench.report,
        undefined,
        FAST,
      ),
    );
    expect(codeOf(err)).toBe('protocol_error');
    expect(err.message).toMatch(/refused Write Memory data at 0x08000400/);
    expect(bench.states.at(-1)).toEqual({ state: 'writing', bytes: 1024, total: 4096 });
    expect(await portIsFree(bench.pair.b)).toBe(true);
    never(bench.states);
  });

  it('a dropped reply ends in timeout', async () => {
    bench = await openBench({ part: 'f103', faults: [{ kind: 'drop', command: 'write', at: 3 }] });
    const started = Date.now();
    const err = await failure(
      flashStm32(
        { path: bench.pair.b, image: { kind: 'bin', data: image(4096) } },
        bench.report,
        undefined,
        FAST,
      ),
    );
    expect(codeOf(err)).toBe('timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(FAST.timeouts!.writeMs! - 20);
    expect(await portIsFree(bench.pair.b)).toBe(true);
  });

  it('noise where an ACK belongs ends in protocol_error', async () => {
    bench = await openBench({
      part: 'f103',
      faults: [{ kind: 'noise', command: 'get_id', at: 1 }],
    });
    const err = await failure(
      flashStm32(
        { path: bench.pair.b, image: { kind: 'bin', data: image(64) } },
        bench.report,
        undefined,
        FAST,
      ),
    );
    expect(codeOf(err)).toBe('protocol_error');
    expect(err.message).toMatch(/unexpected byte 0x00 instead of ACK for GET_ID/);
    expect(await portIsFree(bench.pair.b)).toBe(true);
  });

  it('a block that reads back wrong once is read again and passes', async () => {
    bench = await openBench({
      part: 'f103',
      faults: [{ kind: 'corrupt', command: 'read', at: 2 }],
    });
    const data = image(1024);
    await flashStm32(
      { path: bench.pair.b, image: { kind: 'bin', data } },
      bench.report,
      undefined,
      FAST,
    );
    expect(bench.sim.count('write')).toBe(4); // no rewrite
    expect(bench.sim.count('read')).toBe(5); // 4 blocks + 1 re-read
    expect(Buffer.compare(bench.sim.flash.subarray(0, 1024), Buffer.from(data))).toBe(0);
  });

  it('a block that keeps reading back wrong ends in verify_failed', async () => {
    bench = await openBench({
      part: 'f103',
      faults: [{ kind: 'corrupt', command: 'read', at: 2, times: 100 }],
    });
    const err = await failure(
      flashStm32(
        { path: bench.pair.b, image: { kind: 'bin', data: image(1024) } },
        bench.report,
        undefined,
        { ...FAST, verifyRetries: 2 },
      ),
    );
    expect(codeOf(err)).toBe('verify_failed');
    expect(err.message).toMatch(/0x08000100/);
    expect(bench.sim.count('read')).toBe(1 + 3);
    expect(await portIsFree(bench.pair.b)).toBe(true);
  });

  it('the serial device disappearing mid-write ends in port_vanished', async () => {
    bench = await openBench({ part: 'f103' });
    const pair = bench.pair;
    let closing: Promise<void> | null = null;
    const err = await failure(
      flashStm32(
        { path: pair.b, image: { kind: 'bin', data: image(20_000) } },
        (s) => {
          bench?.states.push(s);
          if (s.state === 'writing' && s.bytes >= 4096 && !closing) closing = pair.close();
        },
        undefined,
        FAST,
      ),
    );
    await closing;
    expect(codeOf(err)).toBe('port_vanished');
    expect(bench.sim.count('write')).toBeLessThan(79);
  });

  it('the other end going quiet mid-write ends in timeout', async () => {
    bench = await openBench({ part: 'f103' });
    const sim = bench.sim;
    let stopping: Promise<void> | null = null;
    const err = await failure(
      flashStm32(
        { path: bench.pair.b, image: { kind: 'bin', data: image(20_000) } },
        (s) => {
          if (s.state === 'writing' && s.bytes >= 4096 && !stopping) stopping = sim.stop();
        },
        undefined,
        FAST,
      ),
    );
    await stopping;
    expect(codeOf(err)).toBe('timeout');
    expect(await portIsFree(bench.pair.b)).toBe(true);
  });

  it('cancelling mid-write ends in cancelled and releases the port', async () => {
    bench = await openBench({ part: 'f103' });
    const ac = new AbortController();
    const err = await failure(
      flashStm32(
        { path: bench.pair.b, image: { kind: 'bin', data: image(20_000) } },
        (s) => {
          if (s.state === 'writing' && s.bytes >= 2048) ac.abort();
        },
        ac.signal,
        FAST,
      ),
    );
    expect(codeOf(err)).toBe('cancelled');
    expect(await portIsFree(bench.pair.b)).toBe(true);
  });
});

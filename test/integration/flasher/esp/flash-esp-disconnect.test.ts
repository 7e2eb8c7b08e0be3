/**
 * flashEsp when the other end goes away in the middle of writing: the board side falls silent
 * (its UART closed), or the host's serial device disappears (unplugged USB adapter; here the pty
 * pair is destroyed). Both end in a FlashError and leave no descriptor behind.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { flashEsp, type EspFlashRequest } from '../../../../src/main/flasher/esp/flash-esp';
import { FlashError, type FlashState } from '../../../../src/shared/flash-state';
import { fdsOpenOn, randomImage, startSim, type SimRig } from '../../../support/esp32-sim-harness';

let rig: SimRig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

function job(host: string): EspFlashRequest {
  return {
    path: host,
    baud: 921600,
    images: {
      kind: 'files',
      files: [{ name: 'app.bin', data: randomImage(256 * 1024), address: 0x10000 }],
    },
  };
}

async function failure(req: EspFlashRequest, states: FlashState[]): Promise<FlashError> {
  const err = await flashEsp(req, (s) => states.push(s)).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(FlashError);
  return err as FlashError;
}

describe('flashEsp disconnects', () => {
  it('reports port_vanished when the serial device disappears mid-write', async () => {
    const r = await startSim();
    rig = r;
    r.sim.on('block', (n: number) => {
      if (n === 2) void r.pair.close(); // kills socat: the host side gets EIO
    });
    const states: FlashState[] = [];
    const err = await failure(job(r.host), states);
    expect(err.code).toBe('port_vanished');
    expect(err.hint).toMatch(/unplugged or reset/);
    expect(states.at(-1)?.state).toBe('writing');
    expect(fdsOpenOn(r.hostDevice)).toBe(0);
  });

  it('reports timeout when the board falls silent mid-write (after esptool-js retries the block)', async () => {
    rig = await startSim({ faults: { closeOnBlock: 1 } });
    const states: FlashState[] = [];
    const started = Date.now();
    const err = await failure(job(rig.host), states);
    expect(err.code).toBe('timeout');
    expect(err.message).toMatch(/during write/);
    expect(err.hint).toMatch(/stopped answering/);
    // 3 attempts of 3 s each (esptool-js WRITE_BLOCK_ATTEMPTS), then give up.
    expect(Date.now() - started).toBeLessThan(15_000);
    const writing = states.filter((s) => s.state === 'writing');
    expect(writing.length).toBeGreaterThan(0);
    expect(fdsOpenOn(rig.hostDevice)).toBe(0);
  });
});

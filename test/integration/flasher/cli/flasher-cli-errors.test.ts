/**
 * `fleetbench flash` failing the way users meet it: a port that is not there, a port another
 * program holds, bad input. One clear line (plus a hint) and a documented exit code each.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../support/cli-runner';
import { firmwareLike, startSim, type SimRig } from '../../../support/esp32-sim-harness';

const ENV = { FLEETBENCH_FROM_SOURCE: '1' };
let dir: string;
let rig: SimRig;
let app: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fb-flash-cli-err-'));
  app = join(dir, 'small.bin');
  writeFileSync(app, firmwareLike(4096));
  rig = await startSim();
});
afterAll(async () => {
  await rig.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('fleetbench flash errors', () => {
  it('unknown port: exit 3 naming the port', async () => {
    const r = await runCli(['flash', '--port', '/dev/ttyNOPE4', `${app}@0x10000`], ENV);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/serial port \/dev\/ttyNOPE4 does not exist/);
  });

  it('a port another program holds: exit 3 with a hint', async () => {
    const holder = new SerialPort({ path: rig.host, baudRate: 115200, autoOpen: false });
    await new Promise<void>((res, rej) => holder.open((e) => (e ? rej(e) : res())));
    try {
      const r = await runCli(['flash', '--port', rig.host, `${app}@0x10000`], ENV);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/busy|in use|lock/i);
      expect(r.stderr).toMatch(/hint: /);
    } finally {
      await new Promise<void>((r) => holder.close(() => r()));
    }
  });

  it('bad input: exit 2 before the port is touched', async () => {
    const cases: [string[], RegExp][] = [
      [['flash', '--port', rig.host, `${app}@0x10001`], /not a multiple of 0x1000/],
      [['flash', '--port', rig.host, '--provision', 'mos', app], /--hub URL and --api-key/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args, ENV);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    expect(rig.sim.commands).toEqual([]);
  });
});

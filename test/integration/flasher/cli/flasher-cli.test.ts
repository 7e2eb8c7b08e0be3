/**
 * `fleetbench ports` and `fleetbench flash` as a user runs them (the real bin, a child process,
 * no hub), against the ESP32 and STM32 simulators over socat ptys.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import MemoryMap from 'nrf-intel-hex';
import { describe, expect, it } from 'vitest';
import { CLI_ENV as ENV, useCliFixture } from '../../../support/cli-fixture';
import { ptyPairFor } from '../../../support/cleanups';
import { runCli } from '../../../support/cli-runner';
import { firmwareLike } from '../../../support/esp32-sim-harness';
import { Stm32Sim } from '../../../support/stm32-sim';

const cli = useCliFixture('fb-flash-cli-');
const { cleanups, sim } = cli;

function file(name: string, data: Uint8Array | string): string {
  const path = join(cli.dir, name);
  writeFileSync(path, data);
  return path;
}

describe('fleetbench ports / flash', () => {
  it('ports --json lists an extra pty that exists', async () => {
    const rig = await sim();
    const json = await runCli(['ports', '--json', '--extra', `${rig.host},/nonexistent/x`], ENV);
    expect(json.code, json.stderr).toBe(0);
    const ports = JSON.parse(json.stdout) as { path: string; kind: string }[];
    expect(ports.find((p) => p.path === rig.host)).toMatchObject({ kind: 'pty' });
    expect(ports.some((p) => p.path === '/nonexistent/x')).toBe(false);
  });

  it('flash writes two images to an ESP32 and prints progress; the flash matches', async () => {
    const rig = await sim({ mac: '24:0a:c4:01:02:03' });
    const boot = firmwareLike(8 * 1024);
    const app = firmwareLike(96 * 1024);
    const r = await runCli(
      [
        'flash',
        '--port',
        rig.host,
        '--baud',
        '921600',
        `${file('boot.bin', boot)}@0x1000`,
        `${file('app.bin', app)}@0x10000`,
      ],
      ENV,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Detecting the chip...');
    expect(r.stderr).toContain('Writing...');
    expect(r.stderr).toMatch(/100%/);
    expect(r.stderr).toMatch(/Done in [\d.]+ s\. ESP32, MAC 24:0a:c4:01:02:03, flash 4MB\./);
    expect(Buffer.compare(rig.sim.flash.subarray(0x1000, 0x1000 + boot.length), boot)).toBe(0);
    expect(Buffer.compare(rig.sim.flash.subarray(0x10000, 0x10000 + app.length), app)).toBe(0);
  });

  it('flash --chip stm32 writes an Intel HEX file, --json prints the job', async () => {
    const pair = await ptyPairFor(cleanups);
    const stm = new Stm32Sim({ path: pair.a });
    await stm.start();
    cleanups.push(() => stm.stop());
    const data = firmwareLike(5000);
    const hex = new MemoryMap([[0x08000000, data]]).asHexString();
    const r = await runCli(
      ['flash', '--port', pair.b, '--chip', 'stm32', '--json', file('fw.hex', hex)],
      ENV,
    );
    expect(r.code, r.stderr).toBe(0);
    const job = JSON.parse(r.stdout) as {
      kind: string;
      state: { state: string };
      result: { bytesWritten: number };
    };
    expect(job).toMatchObject({
      kind: 'stm32',
      state: { state: 'done' },
      result: { bytesWritten: data.length },
    });
    expect(Buffer.compare(stm.flash.subarray(0, data.length), data)).toBe(0);
  });
});

/**
 * `fleetbench bench` (three simulated boards, one faulty, a retry, CSV out) and
 * `fleetbench monitor` (stdout, stdin, decoded panics, Ctrl-] to quit) as child processes.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_ENV as ENV, useCliFixture } from '../../../support/cli-fixture';
import { ptyPairFor } from '../../../support/cleanups';
import { BIN, runCli } from '../../../support/cli-runner';
import { buildElf32 } from '../../../support/elf32-writer';
import { firmwareLike } from '../../../support/esp32-sim-harness';
import { closePeerPort, openPeerPort } from '../../../support/pty-peer';
import { until } from '../jobs/job-harness';

const cli = useCliFixture('fb-bench-cli-');
const { cleanups, sim } = cli;

describe('fleetbench bench / monitor', () => {
  it('bench flashes three boards, retries the faulty one, writes the CSV', async () => {
    const a = await sim({ mac: '24:0a:c4:00:00:0a' });
    const b = await sim({ mac: '24:0a:c4:00:00:0b' });
    const c = await sim({
      mac: '24:0a:c4:00:00:0c',
      faults: { badChecksum: { seq: 1, times: 3 } },
    });
    const image = firmwareLike(96 * 1024);
    const app = join(cli.dir, 'app.bin');
    writeFileSync(app, image);
    const csv = join(cli.dir, 'out.csv');
    const r = await runCli(
      [
        'bench',
        '--ports',
        [a.host, b.host, c.host].join(','),
        '--baud',
        '921600',
        '--retries',
        '1',
        '--csv',
        csv,
        `${app}@0x10000`,
      ],
      ENV,
      40_000,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Retrying 1 failed port/);
    expect(r.stdout).toMatch(/3\/3 ok/);
    for (const rig of [a, b, c]) {
      expect(Buffer.compare(rig.sim.flash.subarray(0x10000, 0x10000 + image.length), image)).toBe(
        0,
      );
    }
    const lines = readFileSync(csv, 'utf8').trimEnd().split('\r\n');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatch(new RegExp(`^${c.host},ESP32,24:0a:c4:00:00:0c,4MB,,ok,\\d+,2,$`));
  });

  it('monitor prints the board output, sends stdin, decodes panics, quits on Ctrl-]', async () => {
    const pair = await ptyPairFor(cleanups);
    const board = await openPeerPort(pair.a);
    cleanups.push(() => closePeerPort(board));
    let fromHost = '';
    board.on('data', (d: Buffer) => (fromHost += d.toString()));
    const elf = join(cli.dir, 'fw.elf');
    writeFileSync(
      elf,
      buildElf32({ symbols: [{ name: 'app_main', value: 0x400d1b20, size: 0x40 }] }),
    );

    const child = spawn(process.execPath, [BIN, 'monitor', '--port', pair.b, '--elf', elf], {
      env: { ...process.env, ...ENV },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    cleanups.push(async () => void (child.exitCode === null && child.kill('SIGKILL')));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    await until(() => stderr.includes('Quit: Ctrl-]'), 15_000, 'monitor ready');
    expect(stderr).toContain('1 symbols loaded');

    board.write('I (10) boot: hello from the board\r\n');
    await until(() => stdout.includes('hello from the board'), 5000, 'board output');
    child.stdin.write('help\n');
    await until(() => fromHost === 'help\n', 5000, 'input at the board');
    board.write(
      "Guru Meditation Error: Core  0 panic'ed (LoadProhibited). Exception was unhandled.\r\n" +
        'PC      : 0x400d1b3a  PS      : 0x00060730\r\nBacktrace: 0x400d1b37:0x3ffb1f50\r\n\r\nRebooting...\r\n',
    );
    await until(
      () => stderr.includes('--- panic: LoadProhibited in app_main+0x1a'),
      5000,
      'decoded panic',
    );

    child.stdin.write(Buffer.from([0x1d]));
    expect(await exited).toBe(0);
    expect(fromHost).toBe('help\n'); // Ctrl-] itself never reaches the board
  });

  it('monitor on a missing port fails with exit 3', async () => {
    const r = await runCli(['monitor', '--port', '/dev/ttyNOPE8'], ENV);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/does not exist/);
  });
});

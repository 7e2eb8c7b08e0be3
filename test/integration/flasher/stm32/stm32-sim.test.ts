/**
 * The simulator against an independent client: the real stm32flash 0.7 (FLASHING.md 4.3-4.4),
 * over a real socat pty pair. If stm32flash can write, verify and Go through it, for both the
 * Erase (0x43, F103) and Extended Erase (0x44, F4) variants and for .bin and .hex, then the
 * simulator is faithful enough to judge our own client by (flash-stm32.test.ts).
 */
import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import MemoryMap from 'nrf-intel-hex';
import { openPtyPair, type PtyPair } from '../../../support/pty-pair';
import { Stm32Sim } from '../../../support/stm32-sim';
import type { SimPartName } from '../../../support/stm32-sim-parts';

const STM32FLASH = '/usr/bin/stm32flash';
const FLASH = 0x08000000;

interface Run {
  code: number | null;
  out: string;
}

/** Runs a child to completion (or kills it after `ms`), capturing stdout and stderr. */
function run(cmd: string, args: string[], ms = 15_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

function writeImage(dir: string, kind: 'bin' | 'hex', image: Buffer): string {
  const file = join(dir, `fw.${kind}`);
  if (kind === 'bin') writeFileSync(file, image);
  else writeFileSync(file, new MemoryMap([[FLASH, new Uint8Array(image)]]).asHexString());
  return file;
}

describe('STM32 simulator driven by stm32flash', () => {
  let pair: PtyPair;
  let dir: string;
  let sim: Stm32Sim | null = null;

  beforeEach(async () => {
    pair = await openPtyPair();
    dir = mkdtempSync(join(tmpdir(), 'fb-stm32flash-'));
  });

  afterEach(async () => {
    await sim?.stop();
    sim = null;
    await pair.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const cases: Array<[SimPartName, 'bin' | 'hex']> = [
    ['f103', 'bin'],
    ['f103', 'hex'],
    ['f4', 'bin'],
    ['f4', 'hex'],
  ];

  it.each(cases)('%s: writes, verifies and starts a 20 KB .%s image', async (part, kind) => {
    sim = new Stm32Sim({ path: pair.a, part });
    await sim.start();
    const image = randomBytes(20_000);
    const file = writeImage(dir, kind, image);

    const r = await run(STM32FLASH, [
      '-m',
      '8n1',
      '-b',
      '115200',
      '-w',
      file,
      '-v',
      '-g',
      '0x0',
      pair.b,
    ]);

    expect(r.out).toContain(part === 'f103' ? 'Device ID    : 0x0410' : 'Device ID    : 0x0413');
    expect(r.out).toContain(kind === 'hex' ? 'Intel HEX' : 'Raw BINARY');
    expect(r.code, r.out).toBe(0);
    expect(Buffer.compare(sim.flash.subarray(0, image.length), image)).toBe(0);
    // Everything after the image is still erased.
    expect(sim.flash.subarray(image.length).every((b) => b === 0xff)).toBe(true);
    // FLASHING.md 4.3: 79 Write Memory and 79 Read Memory commands for 20 KB.
    expect(sim.count('write')).toBe(79);
    expect(sim.count('read')).toBe(79);
    if (part === 'f103') {
      expect(sim.commands).toContain(
        `ERASE pages ${Array.from({ length: 20 }, (_, i) => i).join(',')}`,
      );
    } else {
      expect(sim.commands).toContain('EXTENDED_ERASE pages 0,1');
    }
    expect(sim.commands.at(-1)).toBe('GO 0x08000000');
    expect(sim.mode).toBe('running');
  });

  it('NACKs writes to flash that was not erased, which stm32flash reports', async () => {
    sim = new Stm32Sim({ path: pair.a, part: 'f103' });
    await sim.start();
    sim.flash.fill(0x00, 0, 1024); // programmed page 0
    const file = writeImage(dir, 'bin', randomBytes(256));
    // -e 0: erase nothing before writing.
    const r = await run(STM32FLASH, ['-m', '8n1', '-e', '0', '-w', file, pair.b]);
    expect(r.code).not.toBe(0);
    expect(
      sim.commands.some((c) => c.startsWith('NACK write: flash at 0x8000000 is not erased')),
    ).toBe(true);
    expect(sim.flash.subarray(0, 1024).every((b) => b === 0x00)).toBe(true);
  });

  it('the CLI serves stm32flash and dumps its flash on SIGTERM', async () => {
    const dump = join(dir, 'dump.bin');
    const cli = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/support/stm32-sim-cli.ts', pair.a, '--chip', 'f4', '--dump', dump],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        cli.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('stm32-sim:')) resolve();
        });
        cli.on('exit', (code) => reject(new Error(`CLI exited early (${code}): ${out}`)));
      });
      const image = randomBytes(20_000);
      const file = writeImage(dir, 'bin', image);
      const r = await run(STM32FLASH, ['-m', '8n1', '-w', file, '-v', pair.b]);
      expect(r.code, r.out).toBe(0);
      const exited = new Promise<number | null>((resolve) => cli.once('close', resolve));
      cli.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toContain('EXTENDED_ERASE pages 0,1');
      const flash = readFileSync(dump);
      expect(flash.length).toBe(1024 * 1024);
      expect(Buffer.compare(flash.subarray(0, image.length), image)).toBe(0);
    } finally {
      if (cli.exitCode === null) cli.kill('SIGKILL');
    }
  });
});

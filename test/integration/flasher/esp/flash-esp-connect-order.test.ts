/**
 * The connect sequence (issue 11, flashing end to end): on an ESP32 the ROM's baud is changed
 * before the stub upload (second word 0, the ROM's form) so the stub goes over the fast line, the
 * chip is identified by its magic register without the GET_SECURITY_INFO probe its ROM does not
 * have, and the 115200-baud description reads esptool-js makes only for its log are gone. Other
 * chips keep esptool's order: stub first, then CHANGE_BAUDRATE with the old baud as second word.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { flashEsp } from '../../../../src/main/flasher/esp/flash-esp';
import { firmwareLike, startSim, type SimRig } from '../../../support/esp32-sim-harness';

let rig: SimRig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

interface Seen {
  name: string;
  /** The simulator's line speed when the command arrived. */
  baud: number;
  data: Uint8Array;
}

function watch(r: SimRig): Seen[] {
  const seen: Seen[] = [];
  r.sim.on('command', (name: string, data: Uint8Array) =>
    seen.push({ name, baud: r.sim.baud, data: new Uint8Array(data) }),
  );
  return seen;
}

const word = (d: Uint8Array, i: number): number => Buffer.from(d).readUInt32LE(i * 4);

async function flash(r: SimRig, baud: number): Promise<Buffer> {
  const image = firmwareLike(64 * 1024);
  await flashEsp(
    {
      path: r.host,
      baud,
      images: { kind: 'files', files: [{ name: 'app.bin', data: image, address: 0x10000 }] },
    },
    () => {},
  );
  expect(Buffer.compare(r.sim.flash.subarray(0x10000, 0x10000 + image.length), image)).toBe(0);
  return image;
}

describe('ESP connect sequence', () => {
  it('ESP32: changes the ROM baud first and uploads the stub at the fast speed', async () => {
    rig = await startSim({ chip: 'esp32' });
    const seen = watch(rig);
    await flash(rig, 460800);

    const names = seen.map((s) => s.name);
    const change = names.indexOf('CHANGE_BAUDRATE');
    const stub = names.indexOf('MEM_BEGIN');
    expect(change).toBeGreaterThan(0);
    expect(change).toBeLessThan(stub);
    expect(names.filter((n) => n === 'CHANGE_BAUDRATE')).toHaveLength(1);
    const cmd = seen[change]!;
    expect(word(cmd.data, 0)).toBe(460800);
    expect(word(cmd.data, 1)).toBe(0); // the ROM's form of the command
    for (const s of seen.filter((x) => x.name.startsWith('MEM_'))) expect(s.baud).toBe(460800);
    // The magic register identifies an ESP32; its ROM has no GET_SECURITY_INFO to ask.
    expect(names).not.toContain('GET_SECURITY_INFO');
    // Before the baud change: SYNC and the one magic-register read, nothing else at 115200.
    expect(names.slice(0, change).filter((n) => n !== 'SYNC')).toEqual(['READ_REG']);
  });

  it('ESP32-S3: keeps esptool order (stub at the ROM baud, then CHANGE_BAUDRATE from the stub)', async () => {
    rig = await startSim({ chip: 'esp32s3' });
    const seen = watch(rig);
    await flash(rig, 460800);

    const names = seen.map((s) => s.name);
    const change = names.indexOf('CHANGE_BAUDRATE');
    expect(names.lastIndexOf('MEM_END')).toBeLessThan(change);
    for (const s of seen.filter((x) => x.name.startsWith('MEM_'))) expect(s.baud).toBe(115200);
    expect(word(seen[change]!.data, 1)).toBe(115200); // the stub's form: the old baud
    expect(names).toContain('GET_SECURITY_INFO');
  });

  it('ESP32 at the ROM baud: no baud change at all', async () => {
    rig = await startSim({ chip: 'esp32' });
    const seen = watch(rig);
    await flash(rig, 115200);
    expect(seen.map((s) => s.name)).not.toContain('CHANGE_BAUDRATE');
  });
});

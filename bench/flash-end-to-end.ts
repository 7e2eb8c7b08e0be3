/**
 * `fleetbench flash` end to end against the issue's esptool.py measurement (issue 11, "Flashing
 * end to end, against esptool.py"), recorded in bench/RESULTS.md ("## Flashing").
 *
 *   npm run build && node --import tsx bench/flash-end-to-end.ts [--rounds 3] [--baud 460800]
 *       [--kib] [--bin other/bin/fleetbench.js]
 *
 * The issue's setup: a socat pty pair, the ESP32 simulator THROTTLED (every byte costs its wire
 * time at the current baud, 10 bits a byte; test/support/esp32-sim.ts) starting at the ROM's
 * 115200, a 700 KB image (300 KB random + 400 KB text) at 0x10000, 460800 baud, no reset after.
 * It times the command a user types (`node bin/fleetbench.js flash ...`, the built CLI) from spawn
 * to exit, and splits the time with the job's own state timestamps (--json history) and the
 * simulator's view of the line (every command it received, with the bytes so far and the baud).
 *
 * Wire floor: every byte the line carried, both directions, x 10 bits / the baud in effect when it
 * crossed, summed per phase. esptool.py cannot be installed here (no PyPI), so its side is the
 * issue's measurement (7.45 s) plus an estimate of the bytes it puts on the wire for this image
 * (`esptoolWireEstimate`: its SLIP-framed zlib-9 16 KiB FLASH_DEFL_DATA blocks are computable
 * exactly; its stub upload and register reads are estimated, see there).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { deflateSync } from 'node:zlib';
import { slipEncode } from '../src/main/flasher/esp/slip';
import { Esp32Sim } from '../test/support/esp32-sim';
import { openPtyPair } from '../test/support/pty-pair';
import { REPO_ROOT } from './bench-child';
import { intFlag, isMain, runMain } from './bench-main';
import { currentLoad, machineInfo } from './machine-info';
import { makeTempDir } from './temp-dir';

/**
 * The issue says "700 KB = 300 KB random + 400 KB text" without saying which KB. Decimal by
 * default: with 1024-byte KB this image needs, by the estimate below, 7.46 s of pure wire time the
 * way esptool.py sends it, more than the 7.45 s esptool.py took in total, so the issue's image must
 * have been smaller. `--kib` runs the 1024-byte variant (both are recorded in RESULTS.md).
 */
let KB = 1000;
const APP = 0x10000;
const ROM_BAUD = 115200;
/** The issue's measurement of esptool.py 3.3.3 on this setup (it cannot be installed here). */
export const ESPTOOL_SECONDS = 7.45;
const DEFAULT_BIN = join(REPO_ROOT, 'bin/fleetbench.js');

/** A fixed paragraph, repeated: "text" the way firmware string tables and web assets repeat. */
const PARAGRAPH =
  'I (1234) wifi: station connected to the access point, rssi -52, channel 6, authmode WPA2_PSK\n' +
  'I (1240) mqtt: connected to mqtts://broker.local:8883, subscribing to device/+/rpc\n' +
  'W (1302) ota: no update available, next check in 3600 s; firmware 1.4.2 (build 2026-11-20)\n' +
  'I (1310) app: sensors ready: temperature, humidity, pressure; sampling every 10 s\n';

/** 300 KB of xorshift bytes (reproducible, incompressible) + 400 KB of repeated text (KB above). */
export function issueImage(): Uint8Array {
  const img = new Uint8Array(700 * KB);
  let x = 0x9e3779b9;
  for (let i = 0; i < 300 * KB; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    img[i] = x & 0xff;
  }
  img[0] = 0; // not an ESP-IDF image header (no flash-parameter rewrite)
  const text = new TextEncoder().encode(PARAGRAPH.repeat(Math.ceil((400 * KB) / PARAGRAPH.length)));
  img.set(text.subarray(0, 400 * KB), 300 * KB);
  return img;
}

/** Size of a command packet (8-byte header + data) once SLIP-framed. */
function framed(data: Uint8Array): number {
  const pkt = new Uint8Array(8 + data.length);
  pkt.set(data, 8);
  return slipEncode(pkt).length;
}

export interface EsptoolEstimate {
  /** Bytes at the ROM baud: SYNC, chip detection and description reads, the stub upload. */
  romBytes: number;
  /** Bytes at the fast baud: flash ID, FLASH_DEFL_* with replies, FLASH_MD5. */
  fastBytes: number;
  compressedBytes: number;
  floorS: number;
}

/**
 * What esptool.py 3.3.3 `--before no_reset --after no_reset -b B write_flash -z 0x10000 img`
 * puts on the wire. Exact: the data blocks (zlib level 9 like `zlib.compress(image, 9)`, 0x4000
 * bytes per FLASH_DEFL_DATA with its 16-byte header, SLIP-escaped) and their 10-byte stub replies.
 * Estimated: the stub is taken as the size of esptool-js 0.7.0's ESP32 stub (esptool 3.3.3's own
 * stub_flasher_32.json is not available offline; it is of the same order), uploaded in 0x1800-byte
 * MEM_DATA blocks at 115200 as esptool does (stub first, then CHANGE_BAUDRATE), and the connect
 * phase as SYNC (8 replies) plus 12 READ_REGs (detection, description, features, crystal, MAC).
 */
export function esptoolWireEstimate(
  image: Uint8Array,
  baud: number,
  stubBytes: number,
): EsptoolEstimate {
  const readReg = framed(new Uint8Array(4)) + framed(new Uint8Array(2)) + 4;
  const sync = framed(new Uint8Array(36)) + 8 * framed(new Uint8Array(4));
  let romBytes = sync + 12 * readReg;
  const MEM_BLOCK = 0x1800;
  for (let off = 0; off < stubBytes; off += MEM_BLOCK) {
    romBytes +=
      framed(new Uint8Array(16 + Math.min(MEM_BLOCK, stubBytes - off))) + framed(new Uint8Array(4));
  }
  romBytes += 2 * (framed(new Uint8Array(16)) + framed(new Uint8Array(4))); // 2 x MEM_BEGIN
  romBytes +=
    framed(new Uint8Array(8)) +
    framed(new Uint8Array(4)) +
    slipEncode(new TextEncoder().encode('OHAI')).length;
  romBytes += framed(new Uint8Array(8)) + framed(new Uint8Array(4)); // CHANGE_BAUDRATE (old speed)
  const packed = deflateSync(image, { level: 9 });
  const reply = framed(new Uint8Array(2));
  let fastBytes = 10 * (framed(new Uint8Array(16)) + reply); // flash ID through SPI registers
  fastBytes += framed(new Uint8Array(16)) + reply; // FLASH_DEFL_BEGIN
  for (let off = 0; off < packed.length; off += 0x4000) {
    const block = packed.subarray(off, off + 0x4000);
    const data = new Uint8Array(16 + block.length);
    data.set(block, 16);
    fastBytes += framed(data) + reply;
  }
  fastBytes += 2 * (framed(new Uint8Array(16)) + reply); // FLASH_BEGIN(0,0) + DEFL_END
  fastBytes += framed(new Uint8Array(16)) + framed(new Uint8Array(18)); // FLASH_MD5
  return {
    romBytes,
    fastBytes,
    compressedBytes: packed.length,
    floorS: (romBytes * 10) / ROM_BAUD + (fastBytes * 10) / baud,
  };
}

interface LineMark {
  t: number;
  name: string;
  /** Wire floor accumulated up to this mark, seconds. */
  floorS: number;
  bytes: number;
}

/** The simulator's view of the line: marks at every command and baud switch, with the floor. */
function watchLine(sim: Esp32Sim): { marks: LineMark[]; floorNow: () => number } {
  const marks: LineMark[] = [];
  let floorS = 0;
  let lastBytes = 0;
  let baud = sim.baud;
  const advance = (): number => {
    const bytes = sim.stats.rxBytes + sim.stats.txBytes;
    floorS += ((bytes - lastBytes) * 10) / baud;
    lastBytes = bytes;
    return bytes;
  };
  sim.on('command', (name: string) => {
    const bytes = advance();
    marks.push({ t: Date.now(), name, floorS, bytes });
  });
  sim.on('baud', (b: number) => {
    const bytes = advance();
    baud = b;
    marks.push({ t: Date.now(), name: `baud ${b}`, floorS, bytes });
  });
  return {
    marks,
    floorNow: () => {
      advance();
      return floorS;
    },
  };
}

interface HistoryEntry {
  at: number;
  state: { state: string };
}

export interface Phase {
  name: string;
  seconds: number;
  floorS: number;
  bytes: number;
}

export interface Round {
  totalS: number;
  floorS: number;
  bytes: number;
  phases: Phase[];
  ok: boolean;
}

/** Phase boundaries: the first time each of these happened (job states and line commands). */
function phasesOf(
  spawnAt: number,
  exitAt: number,
  history: HistoryEntry[],
  marks: LineMark[],
  floorEnd: number,
  bytesEnd: number,
): Phase[] {
  const firstState = (s: string): number | undefined =>
    history.find((h) => h.state.state === s)?.at;
  const firstMark = (pred: (n: string) => boolean): LineMark | undefined =>
    marks.find((m) => pred(m.name));
  type Start = { name: string; t: number; floorS: number; bytes: number };
  const starts: Start[] = [
    { name: 'CLI start (spawn to job queued)', t: spawnAt, floorS: 0, bytes: 0 },
  ];
  const queued = firstState('queued');
  if (queued !== undefined)
    starts.push({
      name: 'job start to first SYNC (flasher load, port open)',
      t: queued,
      floorS: 0,
      bytes: 0,
    });
  const addMark = (name: string, m: LineMark | undefined): void => {
    if (m) starts.push({ name, t: m.t, floorS: m.floorS, bytes: m.bytes });
  };
  addMark(
    'sync + chip detection',
    firstMark((n) => n === 'SYNC'),
  );
  addMark(
    'baud change',
    firstMark((n) => n === 'CHANGE_BAUDRATE'),
  );
  addMark(
    'stub upload',
    firstMark((n) => n === 'MEM_BEGIN'),
  );
  const memEnd = marks.findIndex((m) => m.name === 'MEM_END');
  addMark('chip info + flash ID', memEnd >= 0 ? marks[memEnd + 1] : undefined);
  addMark(
    'write (FLASH_DEFL_*)',
    firstMark((n) => n === 'FLASH_DEFL_BEGIN'),
  );
  addMark(
    'verify (FLASH_MD5)',
    firstMark((n) => n === 'SPI_FLASH_MD5'),
  );
  const resetting = firstState('resetting');
  const last = marks.at(-1);
  if (resetting !== undefined)
    starts.push({
      name: 'reset step + exit',
      t: resetting,
      floorS: last?.floorS ?? 0,
      bytes: last?.bytes ?? 0,
    });
  starts.sort((a, b) => a.t - b.t);
  // A baud change after the stub splits "chip info" from the stub; keep marks in time order.
  return starts.map((s, i) => {
    const next = starts[i + 1];
    const end = next ?? { t: exitAt, floorS: floorEnd, bytes: bytesEnd };
    return {
      name: s.name,
      seconds: (end.t - s.t) / 1000,
      floorS: Math.max(0, end.floorS - s.floorS),
      bytes: Math.max(0, end.bytes - s.bytes),
    };
  });
}

async function oneRound(
  bin: string,
  imageFile: string,
  image: Uint8Array,
  baud: number,
): Promise<Round> {
  const pair = await openPtyPair();
  const sim = new Esp32Sim({ path: pair.a, throttle: true, baud: ROM_BAUD, flashSize: '4MB' });
  try {
    await sim.start();
    const line = watchLine(sim);
    const args = [
      bin,
      'flash',
      '--port',
      pair.b,
      '--baud',
      String(baud),
      '--reset',
      'none',
      '--json',
      `${imageFile}@0x10000`,
    ];
    const spawnAt = Date.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    const exitAt = Date.now();
    const floorEnd = line.floorNow();
    const bytesEnd = sim.stats.rxBytes + sim.stats.txBytes;
    if (code !== 0)
      throw new Error(
        `fleetbench flash exited with ${code}: ${err.trim().split('\n').at(-1) ?? ''}`,
      );
    const job = JSON.parse(out) as { history: HistoryEntry[] };
    const ok = Buffer.compare(sim.flash.subarray(APP, APP + image.length), image) === 0;
    return {
      totalS: (exitAt - spawnAt) / 1000,
      floorS: floorEnd,
      bytes: bytesEnd,
      phases: phasesOf(spawnAt, exitAt, job.history, line.marks, floorEnd, bytesEnd),
      ok,
    };
  } finally {
    await sim.stop();
    await pair.close();
  }
}

const f2 = (n: number): string => n.toFixed(2);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

export function report(
  rounds: Round[],
  baud: number,
  image: Uint8Array,
  stubBytes: number,
): string {
  const est = esptoolWireEstimate(image, baud, stubBytes);
  const best = rounds.reduce((a, b) => (b.totalS < a.totalS ? b : a));
  const lines: string[] = [];
  lines.push(
    `Image: 700 KB = 300 KB xorshift bytes + 400 KB repeated log text, KB = ${KB} bytes (${image.length} bytes), ${est.compressedBytes} bytes after zlib -9; ${baud} baud (${baud / 10} B/s 8N1), ROM at ${ROM_BAUD}.`,
  );
  lines.push('');
  lines.push('| round | end to end s | wire floor s | ratio | bytes on the wire | flash content |');
  lines.push('| ----- | ------------ | ------------ | ----- | ----------------- | ------------- |');
  rounds.forEach((r, i) =>
    lines.push(
      `| ${i + 1} | ${f2(r.totalS)} | ${f2(r.floorS)} | ${f2(r.totalS / r.floorS)} | ${r.bytes} | ${r.ok ? 'matches' : 'DIFFERS'} |`,
    ),
  );
  lines.push('');
  lines.push(`Breakdown of the fastest round (${f2(best.totalS)} s):`);
  lines.push('');
  lines.push('| phase | s | wire bytes | wire floor s |');
  lines.push('| ----- | - | ---------- | ------------ |');
  for (const p of best.phases)
    lines.push(`| ${p.name} | ${f2(p.seconds)} | ${p.bytes} | ${f2(p.floorS)} |`);
  lines.push('');
  lines.push(
    `esptool.py 3.3.3 (the issue's measurement): ${ESPTOOL_SECONDS} s. Its wire floor on this image, estimated: ${est.romBytes} bytes at ${ROM_BAUD} + ${est.fastBytes} at ${baud} = ${f2(est.floorS)} s (ratio ${f2(ESPTOOL_SECONDS / est.floorS)}). fleetbench median ${f2(median(rounds.map((r) => r.totalS)))} s = ${f2(median(rounds.map((r) => r.totalS)) / ESPTOOL_SECONDS)}x esptool.py.`,
  );
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string' },
      baud: { type: 'string' },
      bin: { type: 'string' },
      kib: { type: 'boolean' },
    },
  });
  if (values.kib) KB = 1024;
  const rounds = intFlag(values.rounds, 'rounds', 3, 1);
  const baud = intFlag(values.baud, 'baud', 460800, 9600);
  const bin = values.bin ?? DEFAULT_BIN;
  const info = machineInfo();
  const dir = makeTempDir('fb-flash-e2e-');
  try {
    const image = issueImage();
    const file = dir.file('app.bin');
    writeFileSync(file, image);
    const results: Round[] = [];
    for (let i = 0; i < rounds; i++) {
      const r = await oneRound(bin, file, image, baud);
      console.error(`round ${i + 1}: ${f2(r.totalS)} s (floor ${f2(r.floorS)} s)`);
      results.push(r);
    }
    const { default: stub } = (await import('esptool-js/lib/targets/stub_flasher/esp32.json', {
      with: { type: 'json' },
    })) as { default: { text: string; data: string } };
    const stubBytes =
      Buffer.from(stub.text, 'base64').length + Buffer.from(stub.data, 'base64').length;
    console.log(
      `Machine: ${info.cpuModel}, ${info.cores} cores, Node ${info.node}; ${info.date}; load average ${info.loadAtStart.toFixed(2)} at start, ${currentLoad().toFixed(2)} at end. Command: \`node --import tsx bench/flash-end-to-end.ts --rounds ${rounds}${values.kib ? ' --kib' : ''}\` (after \`npm run build\`).`,
    );
    console.log('');
    console.log(report(results, baud, image, stubBytes));
  } finally {
    dir.remove();
  }
}

if (isMain(import.meta.url)) runMain(main, 10 * 60_000);

/**
 * Fleet crash decoding through a real hub (issue 8 "ESP32 crashes decoded fleet-wide"): a firmware
 * with its ELF in the library, a device whose reported fw_id is that firmware's, and a panic
 * printed over `Log` frames split mid-line -> a stored `log.decoded` notification naming the
 * function and file:line of every frame. No ELF -> nothing decoded and nothing failed.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import type { FirmwareObject } from '../../../src/shared/firmware';
import type { DecodedBacktrace } from '../../../src/shared/crash';
import type { Json, LogEntry, Notification } from '../../../src/shared/types';
import {
  deviceUrl,
  openNotify,
  RawDevice,
  sleep,
  startTestHub,
  waitFor,
  type TestHub,
} from '../../support/hub-harness';
import { buildElf32 } from '../../support/elf32-writer';
import { buildDebugLine } from '../../support/dwarf-line-writer';
import { espAppImage } from '../../unit/firmware/craft-zip';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

const hubs: TestHub[] = [];
const devices: RawDevice[] = [];
afterEach(async () => {
  while (devices.length) devices.pop()?.close();
  while (hubs.length) await hubs.pop()?.stop();
});

function crashElf(): Uint8Array {
  const dl = buildDebugLine(
    [
      {
        dirs: ['/build', '/project/main'],
        files: [{ name: 'app_main.c', dir: 1 }],
        sequences: [
          {
            rows: [
              { addr: 0x400d1000, file: 0, line: 20 },
              { addr: 0x400d1010, file: 0, line: 42 },
            ],
            end: 0x400d1040,
          },
        ],
      },
      {
        dirs: ['/build'],
        files: [{ name: '/idf/components/freertos/port.c', dir: 0 }],
        sequences: [{ rows: [{ addr: 0x40088000, file: 0, line: 141 }], end: 0x40088040 }],
      },
    ],
    5,
  );
  return buildElf32({
    symbols: [
      { name: 'app_main', value: 0x400d1000, size: 0x40 },
      { name: 'vPortTaskWrapper', value: 0x40088000, size: 0x40 },
    ],
    sections: [
      { name: '.debug_line', data: dl.debugLine },
      { name: '.debug_line_str', data: dl.debugLineStr },
    ],
  });
}

function fwZip(buildId: string, elf: Uint8Array): Uint8Array {
  const app = espAppImage({
    chipId: 0,
    project: 'crashy',
    version: buildId,
    elfSha256: createHash('sha256').update(elf).digest(),
  });
  return zipSync({
    'crashy/manifest.json': enc(
      JSON.stringify({
        name: 'crashy',
        platform: 'esp32',
        version: '1.0.0',
        build_id: buildId,
        parts: { app: { type: 'app', src: 'crashy.bin', addr: 0x10000 } },
      }),
    ),
    'crashy/crashy.bin': app,
  });
}

async function upload(t: TestHub, zip: Uint8Array, elf?: Uint8Array): Promise<FirmwareObject> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(zip)]), 'fw.zip');
  if (elf) form.append('elf', new Blob([new Uint8Array(elf)]), 'crashy.elf');
  const res = await fetch(`${t.http}/api/v2/firmware`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.key}` },
    body: form,
  });
  expect(res.status).toBe(201);
  return (await res.json()) as FirmwareObject;
}

/** A device online with `info` as its Sys.GetInfo (so `reported.ota.fw_id`). */
async function onlineDevice(t: TestHub, info: Json): Promise<{ id: string; dev: RawDevice }> {
  const d = await t.createDevice();
  const dev = await RawDevice.connect(deviceUrl(t), {
    headers: { authorization: `Bearer ${d.token}` },
  });
  devices.push(dev);
  await dev.answerGetInfo(info);
  await waitFor(async () => {
    const r = await t.api<{ shadow: { state: { reported: { ota?: Json } } } }>(
      'GET',
      `/api/v2/devices/${d.id}`,
    );
    return r.body.shadow.state.reported.ota !== undefined;
  });
  return { id: d.id, dev };
}

const PANIC = [
  "Guru Meditation Error: Core  0 panic'ed (LoadProhibited). Exception was unhandled.\n",
  'Backtrace: 0x400d1012:0x3ffb1f50 0x4008',
  '8004:0x3ffb1f70 0x3f400000:0x3ffb1f90\n',
  'Rebooting...\n',
];

function sendPanic(dev: RawDevice, firstSeq = 1): void {
  PANIC.forEach((data, i) =>
    dev.send({ method: 'Log', params: { fd: 1, data, t: 1000 + i, seq: firstSeq + i } }),
  );
}

describe('fleet crash decoding', () => {
  it('decodes a backtrace split across Log frames with the ELF of the firmware the device reports', async () => {
    const t = await startTestHub();
    hubs.push(t);
    const elf = crashElf();
    const fw = await upload(t, fwZip('crashy-1', elf), elf);
    expect(fw.elf).toBe(true);
    const { id, dev } = await onlineDevice(t, {
      fw_version: '1.0.0',
      arch: 'esp32',
      fw_id: 'crashy-1',
      app: 'crashy',
    });
    const notify = await openNotify(t);
    sendPanic(dev, 10);
    const n: Notification = await notify.next((x) => x.name === 'log.decoded' && x.id === id);
    const data = n.data as DecodedBacktrace;
    expect(data).toEqual({
      seq: 12,
      t: 1002,
      firmware: fw.id,
      fw_id: 'crashy-1',
      backtrace: 'Backtrace: 0x400d1012:0x3ffb1f50 0x40088004:0x3ffb1f70 0x3f400000:0x3ffb1f90',
      corrupted: false,
      frames: [
        { pc: '0x400d1012', function: 'app_main', file: '/project/main/app_main.c', line: 42 },
        {
          pc: '0x40088004',
          function: 'vPortTaskWrapper',
          file: '/idf/components/freertos/port.c',
          line: 141,
        },
        { pc: '0x3f400000', function: null, file: null, line: null },
      ],
    });
    notify.ws.close();
    // Stored like every notification (PROTOCOL.md 7).
    await waitFor(async () => {
      const r = await t.api<LogEntry[]>('POST', '/api/v2/logs', { name: 'log.decoded' });
      return r.body.some((e) => e.id === id);
    });
    expect(t.hub.services().crashes.stats).toMatchObject({ decoded: 1, failed: 0 });
  });

  it('falls back to the firmware the hub last installed when the device reports no fw_id', async () => {
    const t = await startTestHub();
    hubs.push(t);
    const elf = crashElf();
    const fw = await upload(t, fwZip('crashy-2', elf), elf);
    const { id, dev } = await onlineDevice(t, { fw_version: '1.0.0', arch: 'esp32', app: 'x' });
    t.hub.services().firmware.recordInstall(id, fw.id, '');
    const notify = await openNotify(t);
    sendPanic(dev);
    const n = await notify.next((x) => x.name === 'log.decoded' && x.id === id);
    expect((n.data as DecodedBacktrace).frames[0]).toMatchObject({
      function: 'app_main',
      line: 42,
    });
    expect((n.data as DecodedBacktrace).firmware).toBe(fw.id);
    notify.ws.close();
  });

  it('publishes nothing, and fails nothing, without an ELF or a known firmware', async () => {
    const t = await startTestHub();
    hubs.push(t);
    await upload(t, fwZip('no-elf-1', crashElf()));
    const a = await onlineDevice(t, { fw_version: '1', arch: 'esp32', fw_id: 'no-elf-1' });
    const b = await onlineDevice(t, { fw_version: '1', arch: 'esp32', fw_id: 'unknown-9' });
    const notify = await openNotify(t);
    sendPanic(a.dev);
    sendPanic(b.dev);
    const stats = t.hub.services().crashes.stats;
    await waitFor(() => stats.backtraces === 2);
    await sleep(200);
    expect(notify.events.filter((e) => e.name === 'log.decoded')).toEqual([]);
    expect(stats).toMatchObject({ backtraces: 2, noElf: 2, decoded: 0, failed: 0 });
    notify.ws.close();
  });

  it('takes a last line without its newline as complete after lineIdleMs', async () => {
    const t = await startTestHub({ crashes: { lineIdleMs: 150 } });
    hubs.push(t);
    const elf = crashElf();
    await upload(t, fwZip('crashy-4', elf), elf);
    const { id, dev } = await onlineDevice(t, {
      fw_version: '1',
      arch: 'esp32',
      fw_id: 'crashy-4',
    });
    const notify = await openNotify(t);
    dev.send({
      method: 'Log',
      params: { fd: 1, data: 'Backtrace: 0x400d1002:0x3ffb1f50', seq: 5 },
    });
    const started = Date.now();
    const n = await notify.next((x) => x.name === 'log.decoded' && x.id === id);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(n.data).toMatchObject({ seq: 5, frames: [{ function: 'app_main', line: 20 }] });
    notify.ws.close();
  });

  it('decodes at most maxPerDevicePerMinute backtraces of one device', async () => {
    const t = await startTestHub({ crashes: { maxPerDevicePerMinute: 1 } });
    hubs.push(t);
    const elf = crashElf();
    await upload(t, fwZip('crashy-3', elf), elf);
    const { dev } = await onlineDevice(t, { fw_version: '1', arch: 'esp32', fw_id: 'crashy-3' });
    sendPanic(dev, 1);
    sendPanic(dev, 10);
    const stats = t.hub.services().crashes.stats;
    await waitFor(() => stats.backtraces === 2 && stats.decoded === 1);
    expect(stats.rateLimited).toBe(1);
  });
});

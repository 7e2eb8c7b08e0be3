/**
 * The firmware library end to end through a real hub (PROTOCOL.md 9): multipart uploads of a
 * fw.zip, an ESP app .bin and its ELF, content-addressed dedupe, metadata read from the files,
 * ELF linking, size cap, quota, hostile archives, download and delete.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import type { FirmwareObject } from '../../../src/shared/firmware';
import type { ErrorBody } from '../../../src/shared/errors';
import type { FirmwareLimits } from '../../../src/main/config';
import { startTestHub, type TestHub } from '../../support/hub-harness';
import { buildElf32 } from '../../support/elf32-writer';
import { craftZip, espAppImage } from '../../unit/firmware/craft-zip';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

const hubs: TestHub[] = [];
afterEach(async () => {
  while (hubs.length) await hubs.pop()?.stop();
});

async function hub(firmware: Partial<FirmwareLimits> = {}): Promise<TestHub> {
  const t = await startTestHub({ firmware });
  hubs.push(t);
  return t;
}

interface Reply<T> {
  status: number;
  body: T;
}

async function upload<T = FirmwareObject>(
  t: TestHub,
  parts: { file?: [string, Uint8Array]; elf?: [string, Uint8Array]; notes?: string },
  path = '/api/v2/firmware',
  key: string | null = t.key,
): Promise<Reply<T>> {
  const form = new FormData();
  if (parts.notes !== undefined) form.append('notes', parts.notes);
  if (parts.file) form.append('file', new Blob([new Uint8Array(parts.file[1])]), parts.file[0]);
  if (parts.elf) form.append('elf', new Blob([new Uint8Array(parts.elf[1])]), parts.elf[0]);
  const res = await fetch(t.http + path, {
    method: 'POST',
    headers: key === null ? {} : { authorization: `Bearer ${key}` },
    body: form,
  });
  return { status: res.status, body: (await res.json()) as T };
}

function elfFile(tag: string): Uint8Array {
  return buildElf32({ symbols: [{ name: `app_main_${tag}`, value: 0x400d1000, size: 0x40 }] });
}

function appImage(elf: Uint8Array, extra: Parameters<typeof espAppImage>[0] = {}): Uint8Array {
  return espAppImage({
    chipId: 9,
    project: 'thermostat',
    version: 'v2.3.1',
    date: 'Dec  5 2026',
    time: '12:00:00',
    idf: 'v5.3.2',
    elfSha256: createHash('sha256').update(elf).digest(),
    ...extra,
  });
}

function fwZip(platform = 'esp32', app = appImage(elfFile('zip'), { chipId: 0 })): Uint8Array {
  return zipSync({
    'demo/manifest.json': enc(
      JSON.stringify({
        name: 'demo',
        platform,
        version: '1.4.0',
        build_id: '20260101-120000/main@abc123',
        parts: {
          app: { type: 'app', src: 'demo.bin', addr: 0x10000 },
          boot: { type: 'boot', src: 'bootloader.bin', addr: 0x1000 },
        },
      }),
    ),
    'demo/demo.bin': app,
    'demo/bootloader.bin': new Uint8Array(4096).fill(0xe9, 0, 1),
  });
}

function storedFiles(t: TestHub): string[] {
  return readdirSync(join(t.dataDir, 'firmware')).sort();
}

describe('POST /api/v2/firmware', () => {
  it('stores an ESP app .bin with the facts of its header and app descriptor (201)', async () => {
    const t = await hub();
    const elf = elfFile('a');
    const img = appImage(elf);
    const r = await upload(t, { file: ['thermostat.bin', img], notes: 'lab build' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      name: 'thermostat',
      version: 'v2.3.1',
      platform: 'esp32s3',
      build_id: '20261205-120000',
      format: 'esp-app',
      size: img.length,
      sha256: sha256(img),
      elf: false,
      notes: 'lab build',
      file_name: 'thermostat.bin',
      chip_id: 9,
      app: {
        project: 'thermostat',
        version: 'v2.3.1',
        idf: 'v5.3.2',
        date: 'Dec  5 2026',
        time: '12:00:00',
        elf_sha256: sha256(elf),
      },
    });
    expect(typeof r.body.id).toBe('string');
    expect(r.body.created).toBeGreaterThan(1_700_000_000);
    // Content-addressed on disk, nothing else left behind.
    expect(storedFiles(t)).toEqual([sha256(img)]);
    expect(readFileSync(join(t.dataDir, 'firmware', sha256(img))).equals(Buffer.from(img))).toBe(
      true,
    );
  });

  it('answers the same bytes again with 200 and the existing firmware', async () => {
    const t = await hub();
    const img = appImage(elfFile('b'));
    const first = await upload(t, { file: ['a.bin', img] });
    const again = await upload(t, { file: ['renamed.bin', img] });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect((await t.api<FirmwareObject[]>('GET', '/api/v2/firmware')).body).toHaveLength(1);
    expect(storedFiles(t)).toHaveLength(1);

    // The same new bytes twice at the same time: one 201, one 200, one firmware.
    const img2 = appImage(elfFile('b2'), { version: 'race' });
    const race = await Promise.all([
      upload(t, { file: ['x.bin', img2] }),
      upload(t, { file: ['y.bin', img2] }),
    ]);
    expect(race.map((r) => r.status).sort()).toEqual([200, 201]);
    expect(race[0].body.id).toBe(race[1].body.id);
    expect(storedFiles(t)).toHaveLength(2);
  });

  it('stores a Mongoose OS fw.zip with its manifest (and its app part descriptor)', async () => {
    const t = await hub();
    const zip = fwZip();
    const r = await upload(t, { file: ['fw.zip', zip] });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      name: 'demo',
      version: '1.4.0',
      platform: 'esp32',
      build_id: '20260101-120000/main@abc123',
      format: 'fw.zip',
      size: zip.length,
      sha256: sha256(zip),
      elf: false,
      chip_id: 0,
      app: { project: 'thermostat' },
    });
  });

  it('stores a bare ESP image without app descriptor as format bin', async () => {
    const t = await hub();
    const img = new Uint8Array(2048).fill(0x33);
    img[0] = 0xe9;
    img[1] = 2;
    const r = await upload(t, { file: ['esp8266-app.bin', img] });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ format: 'bin', name: 'esp8266-app', version: '', elf: false });
  });

  it('links an ELF uploaded with its image, or later on its own; refuses a foreign one', async () => {
    const t = await hub();
    const elf = elfFile('c');
    const img = appImage(elf);
    const both = await upload(t, { file: ['app.bin', img], elf: ['app.elf', elf] });
    expect(both.status).toBe(201);
    expect(both.body).toMatchObject({ elf: true, elf_sha256: sha256(elf) });
    expect(storedFiles(t)).toEqual([sha256(img), sha256(elf)].sort());

    const elf2 = elfFile('d');
    const img2 = appImage(elf2, { version: 'v2.4.0' });
    const second = await upload(t, { file: ['app2.bin', img2] });
    expect(second.body.elf).toBe(false);
    const later = await upload(t, { elf: ['app2.elf', elf2] });
    expect(later.status).toBe(200);
    expect(later.body).toMatchObject({ id: second.body.id, elf: true });
    expect(
      (await t.api<FirmwareObject>('GET', `/api/v2/firmware/${second.body.id}`)).body.elf,
    ).toBe(true);

    // An ELF that is not the one the image was built from: 400, nothing stored.
    const before = storedFiles(t);
    const foreign = await upload<ErrorBody>(t, {
      file: ['app3.bin', appImage(elfFile('e'), { version: 'v3' })],
      elf: ['other.elf', elfFile('f')],
    });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error).toMatchObject({ code: 4003 });
    expect(foreign.body.error.message).toMatch(/is not the ELF .* was built from/);
    expect(storedFiles(t)).toEqual(before);

    // An ELF no firmware was built from: 404, not stored.
    const orphan = await upload<ErrorBody>(t, { elf: ['x.elf', elfFile('g')] });
    expect(orphan.status).toBe(404);
    expect(orphan.body.error.code).toBe(4045);
    // Not an ELF at all.
    const notElf = await upload<ErrorBody>(t, { elf: ['x.elf', enc('hello')] });
    expect(notElf.status).toBe(400);
    expect(storedFiles(t)).toEqual(before);
  });

  it('attaches an ELF to one firmware explicitly (POST /firmware/:id/elf)', async () => {
    const t = await hub();
    const r = await upload(t, { file: ['fw.zip', fwZip('esp32', new Uint8Array(64))] });
    expect(r.body.app).toBeUndefined();
    const elf = elfFile('h');
    const linked = await upload(t, { elf: ['fw.elf', elf] }, `/api/v2/firmware/${r.body.id}/elf`);
    expect(linked.status).toBe(200);
    expect(linked.body).toMatchObject({ id: r.body.id, elf: true, elf_sha256: sha256(elf) });
  });

  it('refuses what is not a firmware image with 400 image_invalid and stores nothing', async () => {
    const t = await hub();
    const cases: [string, Uint8Array, RegExp][] = [
      [
        'notes.txt',
        enc('hello world, not firmware'),
        /not a firmware image: it starts with 68656c6c/,
      ],
      ['app.elf', elfFile('i'), /is an ELF file/],
      ['fw.zip', zipSync({ 'readme.txt': enc('hi') }), /no manifest\.json/],
      [
        'evil.zip',
        craftZip([
          { name: 'manifest.json', data: enc('{"platform":"esp32","parts":{}}') },
          { name: '../../etc/cron.d/x', data: enc('* * * * * root sh') },
        ]),
        /unsafe entry name "\.\.\/\.\.\/etc\/cron\.d\/x"/,
      ],
      [
        'crc.zip',
        craftZip([{ name: 'manifest.json', data: enc('{"platform":"esp32","parts":{}}'), crc: 1 }]),
        /CRC-32/,
      ],
    ];
    for (const [name, data, message] of cases) {
      const r = await upload<ErrorBody>(t, { file: [name, data] });
      expect(r.status, name).toBe(400);
      expect(r.body.error.code, name).toBe(4003);
      expect(r.body.error.message, name).toMatch(message);
    }
    expect(storedFiles(t)).toEqual([]);
  });

  it('refuses a fw.zip whose app part lies about its size with 413 zip_bomb', async () => {
    const t = await hub({ maxZipEntryBytes: 1024 * 1024 });
    const bomb = craftZip([
      {
        name: 'manifest.json',
        data: enc(
          JSON.stringify({
            platform: 'esp32',
            parts: { app: { type: 'app', src: 'app.bin', addr: 0x10000 } },
          }),
        ),
      },
      { name: 'app.bin', data: new Uint8Array(50 * 1024 * 1024), declaredSize: 4096 },
    ]);
    const r = await upload<ErrorBody>(t, { file: ['fw.zip', bomb] });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe(4133);
    expect(r.body.error.message).toMatch(/app\.bin inflates beyond/);
    expect(storedFiles(t)).toEqual([]);
  });

  it('refuses a file over the size cap (413) and keeps serving; exactly the cap is fine', async () => {
    const cap = 64 * 1024;
    const t = await hub({ maxImageBytes: cap });
    const exact = espAppImage({ size: cap });
    const over = espAppImage({ size: cap + 1, project: 'big' });
    const r = await upload<ErrorBody>(t, { file: ['big.bin', over] });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe(413);
    expect(r.body.error.message).toMatch(/larger than the 65536-byte limit/);
    expect(storedFiles(t)).toEqual([]);
    expect((await upload(t, { file: ['exact.bin', exact] })).status).toBe(201);
  });

  it('refuses an upload past the library quota with 413 library_full', async () => {
    const t = await hub({ maxLibraryBytes: 10_000 });
    expect((await upload(t, { file: ['a.bin', espAppImage({ size: 6000 })] })).status).toBe(201);
    const r = await upload<ErrorBody>(t, {
      file: ['b.bin', espAppImage({ size: 6000, project: 'b' })],
    });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe(4134);
    expect(r.body.error.message).toMatch(/holds 6000 of its 10000-byte quota/);
    expect(storedFiles(t)).toHaveLength(1);
  });

  it('needs a file part and a master key', async () => {
    const t = await hub();
    const none = await upload<ErrorBody>(t, { notes: 'x' });
    expect(none.status).toBe(400);
    expect(none.body.error.code).toBe(4002);
    const json = await t.api<ErrorBody>('POST', '/api/v2/firmware', { file: 'x' });
    expect(json.status).toBe(400);
    const anon = await upload<ErrorBody>(t, { file: ['a.bin', espAppImage({})] }, undefined, null);
    expect(anon.status).toBe(401);
    expect((await t.api('GET', '/api/v2/firmware', undefined, null)).status).toBe(401);
    expect(storedFiles(t)).toEqual([]);
  });
});

describe('GET and DELETE /api/v2/firmware/:id', () => {
  it('downloads the exact bytes with a length and a file name', async () => {
    const t = await hub();
    const zip = fwZip();
    const { body } = await upload(t, { file: ['demo-fw.zip', zip] });
    const res = await fetch(`${t.http}/api/v2/firmware/${body.id}/file`, {
      headers: { authorization: `Bearer ${t.key}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(zip.length));
    expect(res.headers.get('content-disposition')).toMatch(/filename="demo-fw\.zip"/);
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(zip))).toBe(true);
  });

  it('lists, shows, deletes (files too), and 404s after', async () => {
    const t = await hub();
    const elf = elfFile('j');
    const { body } = await upload(t, { file: ['a.bin', appImage(elf)], elf: ['a.elf', elf] });
    expect(
      (await t.api<FirmwareObject[]>('GET', '/api/v2/firmware')).body.map((f) => f.id),
    ).toEqual([body.id]);
    expect((await t.api('GET', `/api/v2/firmware/${body.id}`)).body).toEqual(body);
    const del = await t.api('DELETE', `/api/v2/firmware/${body.id}`);
    expect(del).toMatchObject({ status: 200, body: true });
    expect(storedFiles(t)).toEqual([]);
    const gone = await t.api<ErrorBody>('GET', `/api/v2/firmware/${body.id}`);
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe(4045);
    expect((await t.api('GET', `/api/v2/firmware/${body.id}/file`)).status).toBe(404);
    expect((await t.api('DELETE', `/api/v2/firmware/${body.id}`)).status).toBe(404);
  });

  it('refuses to delete a firmware an active rollout uses (409)', async () => {
    const t = await hub();
    const { body } = await upload(t, { file: ['a.bin', espAppImage({})] });
    t.hub.services().firmware.setInUseCheck((id) => id === body.id);
    const r = await t.api<ErrorBody>('DELETE', `/api/v2/firmware/${body.id}`);
    expect(r.status).toBe(409);
    expect(r.body.error.message).toMatch(/active rollout/);
    expect(existsSync(join(t.dataDir, 'firmware', body.sha256))).toBe(true);
  });
});

describe('fw_id learning and install history (for OTA)', () => {
  it('learns the fw_id from the first install and keeps per-device history', async () => {
    const t = await hub();
    const lib = t.hub.services().firmware;
    const a = (await upload(t, { file: ['a.bin', espAppImage({ version: 'a' })] })).body;
    const z = (await upload(t, { file: ['fw.zip', fwZip()] })).body;
    // Before any device ran them, firmware is found by its build id: a fw.zip's (what Mongoose
    // OS reports) and an app's build time (what the Arduino mDash library reports).
    expect(lib.findByFwId('20260101-120000/main@abc123')?.id).toBe(z.id);
    expect(lib.findByFwId('20261205-120000')?.id).toBe(a.id);
    expect(lib.findByFwId('19990101-000000')).toBeUndefined();
    lib.recordInstall('dev1', a.id, '20261205-120000');
    lib.recordInstall('dev1', z.id, '20260101-120000/main@abc123');
    lib.recordInstall('dev2', a.id, 'something-else'); // not learned twice
    expect(lib.get(a.id).fw_id).toBe('20261205-120000');
    expect(lib.findByFwId('20261205-120000')?.id).toBe(a.id);
    expect(lib.installedOn('dev1').map((i) => [i.firmware, i.fw_id])).toEqual([
      [a.id, '20261205-120000'],
      [z.id, '20260101-120000/main@abc123'],
    ]);
    expect(lib.installedOn('nobody')).toEqual([]);
  });
});

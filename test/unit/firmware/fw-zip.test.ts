import { describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { HubError } from '../../../src/shared/errors';
import {
  manifestEntryName,
  parseMosManifest,
  readFwZipManifest,
} from '../../../src/main/firmware/fw-zip';
import { craftZip } from './craft-zip';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const manifest = {
  name: 'demo',
  platform: 'esp32',
  version: '1.2.3',
  build_id: '20260101-120000/g1234',
  parts: { app: { src: 'demo.bin', addr: 0x10000 } },
};

describe('fw.zip manifest', () => {
  it('takes the shallowest manifest.json', () => {
    expect(manifestEntryName(['demo/manifest.json', 'manifest.json', 'x.bin'])).toBe(
      'manifest.json',
    );
    expect(manifestEntryName(['demo/manifest.json'])).toBe('demo/manifest.json');
    expect(manifestEntryName(['a/b/manifest.json', 'x.json'])).toBeUndefined();
  });

  it('reads the manifest of a mos build, inflating only it', async () => {
    const zip = zipSync({
      'demo/manifest.json': enc(JSON.stringify(manifest)),
      'demo/demo.bin': new Uint8Array(5000),
    });
    const r = await readFwZipManifest(zip);
    expect(r.entry).toBe('demo/manifest.json');
    expect(r.manifest).toMatchObject({ platform: 'esp32', version: '1.2.3' });
    // A huge part next to the manifest is not inflated (it would be a bomb otherwise).
    const bomb = craftZip([
      { name: 'manifest.json', data: enc(JSON.stringify(manifest)) },
      { name: 'demo.bin', data: new Uint8Array(100 * 1024 * 1024), declaredSize: 10 },
    ]);
    expect((await readFwZipManifest(bomb)).manifest.name).toBe('demo');
  });

  it('refuses a zip without manifest, a bad manifest, and an oversized manifest', async () => {
    const kind = async (p: Promise<unknown>): Promise<string> =>
      p.then(
        () => 'ok',
        (e: unknown) => (e instanceof HubError ? `${e.kind}: ${e.message}` : String(e)),
      );
    expect(await kind(readFwZipManifest(zipSync({ 'a.bin': new Uint8Array(3) })))).toMatch(
      /image_invalid: .*no manifest\.json/,
    );
    expect(
      await kind(readFwZipManifest(zipSync({ 'manifest.json': enc('{"parts":{}}') }))),
    ).toMatch(/image_invalid: manifest\.json is not a Mongoose OS manifest: .*platform/);
    expect(
      await kind(readFwZipManifest(zipSync({ 'manifest.json': new Uint8Array(300 * 1024) }))),
    ).toMatch(/zip_bomb/);
    expect(() => parseMosManifest(enc('{nope'))).toThrow(/not valid JSON/);
  });
});

/**
 * A hub that died with devices marked online boots with them offline (issue 7 item 1): also a
 * device whose shadow sits at exactly the 8 KB limit (`online: false` is one byte longer than
 * `true`), and one bad device never stops the hub from starting. Real data dir, real restart; the
 * crash is simulated by editing the registry file with its own connection.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../../support/hub-harness';
import { REGISTRY_FILE } from '../../../src/main/store/data-dir';
import { DEFAULT_LIMITS } from '../../../src/main/config';
import type { DeviceObject, ShadowDoc } from '../../../src/shared/types';

const LIMIT = DEFAULT_LIMITS.maxShadowBytes;
const bytes = (doc: ShadowDoc): number => Buffer.byteLength(JSON.stringify(doc));

/** `doc` padded (in `tags.pad`) to exactly `LIMIT` bytes with `reported.online: true`. */
function atLimitOnline(doc: ShadowDoc): ShadowDoc {
  const padded = (n: number): ShadowDoc => ({
    ...doc,
    state: { ...doc.state, reported: { ...doc.state.reported, online: true } },
    tags: { pad: 'x'.repeat(n) },
  });
  const out = padded(LIMIT - bytes(padded(0)));
  expect(bytes(out)).toBe(LIMIT);
  return out;
}

describe('startup marks every device offline, whatever its shadow', () => {
  let t: TestHub | undefined;
  let dataDir: string;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a shadow at exactly the limit goes offline, and a broken row does not stop the start', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'fb-startup-'));
    const first = await startTestHub({ dataDir });
    for (const id of ['full', 'broken', 'plain']) await first.createDevice({ id });
    await first.stop();

    const reg = new Database(join(dataDir, REGISTRY_FILE));
    try {
      const read = (id: string): ShadowDoc =>
        JSON.parse(
          reg
            .prepare<[string], { shadow: string }>('SELECT shadow FROM devices WHERE id = ?')
            .get(id)?.shadow ?? '',
        ) as ShadowDoc;
      const set = reg.prepare<[string, string]>('UPDATE devices SET shadow = ? WHERE id = ?');
      set.run(JSON.stringify(atLimitOnline(read('full'))), 'full');
      // Marked online, but not a shadow document any more (a bug, a hand edit, a bad migration).
      set.run(JSON.stringify({ state: { reported: { online: true } } }), 'broken');
      const plain = read('plain');
      plain.state.reported['online'] = true;
      set.run(JSON.stringify(plain), 'plain');
    } finally {
      reg.close();
    }

    t = await startTestHub({ dataDir });
    const full = (await t.api<DeviceObject>('GET', '/api/v2/devices/full')).body;
    expect(full.shadow.state.reported['online']).toBe(false);
    expect(bytes(full.shadow)).toBe(LIMIT + 1);
    const plain = (await t.api<DeviceObject>('GET', '/api/v2/devices/plain')).body;
    expect(plain.shadow.state.reported['online']).toBe(false);
    // The hub serves everything else, the broken device included.
    expect((await t.api<DeviceObject[]>('GET', '/api/v2/devices')).body).toHaveLength(3);

    // A client may still change the over-limit document without growing it, and the device can
    // come online again (hub-owned keys are always writable).
    const shrink = await t.api<ShadowDoc>('POST', '/api/v2/devices/full/shadow', {
      tags: { pad: 'short' },
    });
    expect(shrink.status).toBe(200);
  });
});

/**
 * The public key index is rebuilt from the registry at start: a device's public key keeps working
 * across a hub restart, with its ACL (devices/public-key-index.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestHub } from '../../support/hub-harness';

describe('public key index across a restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fb-acl-restart-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('resolves a key saved before the restart, filtered by the stored ACL', async () => {
    const first = await startTestHub({ dataDir });
    await first.createDevice({ id: 'kept' });
    await first.api('POST', '/api/v2/devices/kept', {
      acl: { public_key: 'kept+key', shadow_read: '^.state.desired.on$' },
      shadow: { state: { desired: { on: true, off: false } } },
    });
    await first.stop();
    const second = await startTestHub({ dataDir });
    try {
      const r = await second.api('GET', '/api/v2/m/device', undefined, 'kept+key');
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ id: 'kept', shadow: { state: { desired: { on: true } } } });
    } finally {
      await second.stop();
    }
  });
});

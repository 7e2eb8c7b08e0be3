/**
 * The restore swap never leaves a half-restored data dir (issue 12): a crash at each point between
 * the steps of data-dir-swap.ts leaves the old dir, or a pending restore that the next hub start
 * (or `fleetbench restore`) finishes. Real directories, a real hub.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  applyPendingRestore,
  markReady,
  pendingRestore,
  previousDirFor,
  stagingDirFor,
} from '../../../src/main/backup/data-dir-swap';
import { startTestHub } from '../../support/hub-harness';

const work = mkdtempSync(join(tmpdir(), 'fb-swap-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function dirWith(path: string, marker: string): void {
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'marker'), marker);
}
const marker = (dir: string): string => readFileSync(join(dir, 'marker'), 'utf8');

describe('data dir swap', () => {
  it('crash before markReady: the old dir stays; the leftover goes at the next apply', () => {
    const data = join(work, 'a');
    dirWith(data, 'old');
    dirWith(stagingDirFor(data), 'new-but-unverified');
    expect(pendingRestore(data)).toBeNull();
    expect(applyPendingRestore(data)).toBeNull();
    expect(marker(data)).toBe('old');
  });

  it('crash after markReady: the next apply puts the new dir in place, old kept aside', () => {
    const data = join(work, 'b');
    dirWith(data, 'old');
    const staged = stagingDirFor(data);
    dirWith(staged, 'new');
    markReady(data, staged);
    const r = applyPendingRestore(data);
    expect(marker(data)).toBe('new');
    expect(r?.previous).toMatch(/b\.before-restore-/);
    expect(marker(r?.previous ?? '')).toBe('old');
    expect(pendingRestore(data)).toBeNull();
  });

  it('previousDirFor names where the apply keeps the old dir, also when that name is taken', () => {
    const data = join(work, 'p');
    for (const taken of [false, true]) {
      dirWith(data, `old-${taken}`);
      const staged = stagingDirFor(data);
      dirWith(staged, 'new');
      // The same time stamp for both rounds: the second finds the first one's name taken.
      const ready = markReady(data, staged, 1_000);
      const said = previousDirFor(data, ready);
      if (taken) expect(said).toMatch(/p\.before-restore-[^/]*-2$/);
      const r = applyPendingRestore(data);
      expect(r?.previous).toBe(said);
      expect(marker(said)).toBe(`old-${taken}`);
      rmSync(data, { recursive: true });
    }
  });

  it('crash between the two renames (data dir gone): finished to the new dir', () => {
    const data = join(work, 'c');
    dirWith(data, 'old');
    const staged = stagingDirFor(data);
    dirWith(staged, 'new');
    markReady(data, staged);
    renameSync(data, `${data}.before-restore-crash`);
    expect(existsSync(data)).toBe(false);
    applyPendingRestore(data);
    expect(marker(data)).toBe('new');
    expect(marker(`${data}.before-restore-crash`)).toBe('old');
  });

  it('a hub starting on a dir with a pending restore applies it first', async () => {
    const first = await startTestHub({ dataDir: join(work, 'hub') });
    const dev = await first.createDevice({ name: 'kept' });
    await first.hub.stop();
    // The restored content: a copy of this data dir made while it held the device.
    const staged = stagingDirFor(join(work, 'hub2'));
    renameSync(join(work, 'hub'), staged);
    dirWith(join(work, 'hub2'), 'old');
    markReady(join(work, 'hub2'), staged);
    const t = await startTestHub({ dataDir: join(work, 'hub2') });
    try {
      expect((await t.api('GET', `/api/v2/devices/${dev.id}`)).status).toBe(200);
      expect(readdirSync(work).filter((n) => n.startsWith('hub2.before-restore-'))).toHaveLength(1);
    } finally {
      await t.hub.stop();
    }
  });
});

/**
 * `fleetbench firmware add|ls|rm` on a data dir, while a hub serves the same data dir: what the
 * CLI adds, the hub lists and serves at once (one SQLite registry in WAL, one folder of files).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FirmwareObject } from '../../../src/shared/firmware';
import type { Rollout } from '../../../src/shared/ota';
import { openStore } from '../../../src/main/store/store';
import { runCli } from '../../support/cli-runner';
import { CLI_ENV } from '../../support/cli-fixture';
import { buildElf32 } from '../../support/elf32-writer';
import { startTestHub } from '../../support/hub-harness';
import { espAppImage } from '../../unit/firmware/craft-zip';

const dir = mkdtempSync(join(tmpdir(), 'fb-fw-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fleetbench firmware', () => {
  it('adds (with ELF and notes, deduplicated), lists and removes; a running hub sees it', async () => {
    const dataDir = join(dir, 'data');
    const t = await startTestHub({ dataDir });
    try {
      const elf = buildElf32({ symbols: [{ name: 'app_main', value: 0x400d1000, size: 16 }] });
      const img = espAppImage({
        project: 'cli-app',
        version: '0.9',
        elfSha256: createHash('sha256').update(elf).digest(),
      });
      writeFileSync(join(dir, 'app.bin'), img);
      writeFileSync(join(dir, 'app.elf'), elf);
      writeFileSync(join(dir, 'notes.txt'), 'not firmware');
      const base = ['--data-dir', dataDir];

      const added = await runCli(
        [
          'firmware',
          'add',
          join(dir, 'app.bin'),
          '--elf',
          join(dir, 'app.elf'),
          '--notes',
          'v0.9 rc',
          ...base,
        ],
        CLI_ENV,
        60_000,
      );
      expect(added.stderr).toBe('');
      expect(added.code).toBe(0);
      const fw = JSON.parse(added.stdout) as FirmwareObject & { added: boolean };
      expect(fw).toMatchObject({
        name: 'cli-app',
        version: '0.9',
        format: 'esp-app',
        elf: true,
        notes: 'v0.9 rc',
        file_name: 'app.bin',
        added: true,
      });

      const again = await runCli(
        ['firmware', 'add', join(dir, 'app.bin'), ...base],
        CLI_ENV,
        60_000,
      );
      expect(JSON.parse(again.stdout)).toMatchObject({ id: fw.id, added: false });

      // The hub serving this data dir lists it and serves its bytes.
      const listed = await t.api<FirmwareObject[]>('GET', '/api/v2/firmware');
      expect(listed.body.map((f) => f.id)).toEqual([fw.id]);
      const res = await fetch(`${t.http}/api/v2/firmware/${fw.id}/file`, {
        headers: { authorization: `Bearer ${t.key}` },
      });
      expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(img))).toBe(true);

      const bad = await runCli(
        ['firmware', 'add', join(dir, 'notes.txt'), ...base],
        CLI_ENV,
        60_000,
      );
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/notes\.txt is not a firmware image: .*\(code 4003\)/);

      const ls = await runCli(['firmware', 'ls', ...base], CLI_ENV, 60_000);
      expect((JSON.parse(ls.stdout) as FirmwareObject[]).map((f) => f.id)).toEqual([fw.id]);

      const rm = await runCli(['firmware', 'rm', fw.id, ...base], CLI_ENV, 60_000);
      expect(rm.code).toBe(0);
      expect(JSON.parse(rm.stdout)).toBe(true);
      expect((await t.api<FirmwareObject[]>('GET', '/api/v2/firmware')).body).toEqual([]);
      const rmAgain = await runCli(['firmware', 'rm', fw.id, ...base], CLI_ENV, 60_000);
      expect(rmAgain.code).toBe(1);
      expect(rmAgain.stderr).toMatch(/no firmware/);
    } finally {
      await t.stop();
    }
  }, 180_000);

  it("rm refuses a firmware an active rollout sends (409), its own or one device's", async () => {
    const dataDir = join(dir, 'data-rm');
    const base = ['--data-dir', dataDir];
    const add = async (n: number): Promise<FirmwareObject> => {
      const file = join(dir, `app${n}.bin`);
      writeFileSync(file, espAppImage({ project: 'rm-app', version: `${n}.0`, fill: n }));
      const r = await runCli(['firmware', 'add', file, ...base], CLI_ENV, 60_000);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as FirmwareObject;
    };
    const rm = (id: string) => runCli(['firmware', 'rm', id, ...base], CLI_ENV, 60_000);
    const t = await startTestHub({ dataDir });
    let perDevice: FirmwareObject;
    try {
      const fw = await add(1);
      perDevice = await add(2);
      await t.createDevice({ id: 'away' }); // offline: the rollout waits for it and stays active
      const created = await t.api<Rollout>('POST', '/api/v2/rollouts', {
        firmware: fw.id,
        devices: ['away'],
        offline: 'wait',
      });
      expect(created.status, created.text).toBe(201);
      const refused = await rm(fw.id);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/used by an active rollout.*\(code 409\)/);
      await t.api('POST', `/api/v2/rollouts/${created.body.id}/pause`);
      expect((await rm(fw.id)).code).toBe(1);
      await t.api('POST', `/api/v2/rollouts/${created.body.id}/abort`);
      const removed = await rm(fw.id);
      expect(removed.code, removed.stderr).toBe(0);
    } finally {
      await t.stop();
    }
    // A paused rollback rollout as the hub stores it: one device is sent its own firmware.
    const store = openStore(dataDir, 0);
    try {
      store.rollouts.create(
        {
          id: 'ro_back',
          spec: {
            firmware: 'fw_other',
            devices: ['away'],
            labels: '',
            waves: ['100%'],
            max_failures: 1,
            health_s: 0,
            concurrency: 1,
            skip_current: false,
            offline: 'wait',
            rollback_of: 'ro_x',
          },
          state: 'paused',
          started: 1,
          waves: 1,
          created: 1,
          ended: null,
        },
        [{ id: 'away', wave: 0, state: 'pending', attempts: 0, firmware: perDevice.id }],
      );
    } finally {
      store.close();
    }
    const refused = await rm(perDevice.id);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/used by an active rollout.*\(code 409\)/);
  }, 180_000);
});

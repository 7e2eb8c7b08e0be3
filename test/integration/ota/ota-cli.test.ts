/**
 * `fleetbench ota <device> <file|fw-id>` against a running hub (the real command as a child
 * process): a file is uploaded and followed to its end; a library firmware by id; exit codes
 * 0 done, 3 rolled back, 1 refused.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { OtaJob } from '../../../src/shared/ota';
import { runCli } from '../../support/cli-runner';
import { appFwId, appImage, otaRig, type OtaRig } from './ota-rig';

let rig: OtaRig | null = null;
let dir: string | null = null;
afterEach(async () => {
  await rig?.stop();
  rig = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

describe('fleetbench ota', () => {
  it('uploads a file, follows the job to done; a rollback exits 3; a refusal exits 1', async () => {
    rig = await otaRig();
    const dev = await rig.addDevice('cli1', 'arduino');
    dir = mkdtempSync(join(tmpdir(), 'fb-ota-cli-'));
    const file = join(dir, 'app.bin');
    writeFileSync(file, appImage(5, 50_000));
    const hubArgs = ['--hub', rig.t.http, '--key', rig.t.key];

    const ok = await runCli(['ota', 'cli1', file, ...hubArgs], {}, 60_000);
    expect(ok.code, ok.stderr).toBe(0);
    const job = JSON.parse(ok.stdout) as OtaJob;
    expect(job).toMatchObject({ device: 'cli1', state: 'done', to_fw: appFwId(5) });
    expect(ok.stderr).toContain(`job ${job.id}`);

    dev.setFaults({ otaRollback: true });
    const other = await rig.addFirmware(appImage(6, 20_000), 'app6.bin');
    const back = await runCli(['ota', 'cli1', other.id, ...hubArgs], {}, 60_000);
    expect(back.code, back.stderr).toBe(3);
    expect(back.stderr).toContain('ota_rolled_back');

    const refused = await runCli(['ota', 'nobody', other.id, ...hubArgs], {}, 60_000);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('404');
  }, 120_000);
});

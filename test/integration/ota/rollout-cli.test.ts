/**
 * `fleetbench rollout ...` against a running hub with simulated devices (the real command as a
 * child process): create with every option and its wave preview, follow to completion (exit 0),
 * a rollout that pauses on a rolled-back device (exit 5, the reason shown), abort, ls, and the
 * usage (2) and refusal (1) exits.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Rollout } from '../../../src/shared/ota';
import { runCli } from '../../support/cli-runner';
import { CLI_ENV } from '../../support/cli-fixture';
import { mosZip, otaRig, type OtaRig } from './ota-rig';

let rig: OtaRig | null = null;
afterEach(async () => {
  await rig?.stop();
  rig = null;
});

describe('fleetbench rollout', () => {
  it('creates, follows, pauses on a failure, aborts and lists', async () => {
    rig = await otaRig();
    const r = rig;
    await r.addDevice('a', 'mos');
    await r.addDevice('b', 'mos');
    await r.addDevice('c', 'mos', { faults: { otaRollback: true } });
    const labelled = await r.t.api('POST', '/api/v2/devices/b', {
      shadow: { tags: { labels: 'roof' } },
    });
    expect(labelled.status).toBe(200);
    const fw = await r.addFirmware(mosZip(2, 2000), 'v2.zip');
    const cli = (...args: string[]) =>
      runCli(['rollout', ...args, '--hub', r.t.http, '--key', r.t.key], CLI_ENV, 60_000);

    const usage = await cli('create', '--firmware', fw.id, '--devices', 'a', '--waves', '1,0');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("--waves: '0' is not a count");

    const created = await cli(
      'create',
      ...['--firmware', fw.id, '--devices', 'a', '--labels', 'roof', '--waves', '1,100%'],
      ...['--max-failures', '1', '--health', '0', '--concurrency', '2'],
      ...['--skip-current', '--offline', 'skip'],
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain('wave 1: 1 device');
    expect(created.stdout).toContain('wave 2: 1 device');
    expect(created.stdout).toContain('2 devices in 2 waves: 1 + 1');
    const id = /^rollout (\S+)/.exec(created.stdout)?.[1] ?? '';
    const followed = await cli('show', id, '--follow');
    expect(followed.code, followed.stderr).toBe(0);
    expect(followed.stdout).toMatch(/completed\n/);
    expect(followed.stdout).toContain('done 2  failed 0');

    const bad = await cli(
      'create',
      ...['--firmware', fw.id, '--devices', 'c', '--max-failures', '1', '--health', '0', '--json'],
    );
    expect(bad.code, bad.stderr).toBe(0);
    const badId = (JSON.parse(bad.stdout) as Rollout).id;
    const paused = await cli('show', badId, '--follow');
    expect(paused.code).toBe(5);
    expect(paused.stdout).toMatch(/c {2}rolled_back {2}ota_rolled_back: /);
    const aborted = await cli('abort', badId);
    expect(aborted.code, aborted.stderr).toBe(0);
    expect(aborted.stdout).toContain(`rollout ${badId}  firmware ${fw.id}  aborted`);

    const ls = await cli('ls', '--json');
    expect((JSON.parse(ls.stdout) as Rollout[]).map((x) => [x.id, x.state])).toEqual([
      [id, 'completed'],
      [badId, 'aborted'],
    ]);
    const missing = await cli('show', 'ro_nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('hub answered 404');
  }, 120_000);
});

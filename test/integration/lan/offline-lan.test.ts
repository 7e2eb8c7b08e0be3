/**
 * Issue 12: a LAN with no internet, proven in a network namespace that has only `lo`
 * (`unshare -n -m`). 8.8.8.8 is an address on `lo` and resolv.conf names it, which is what the
 * README's router rule (UDP 53 and 123 redirected to the hub) does for a device that asks Google's
 * resolver. test/support/offline-lan-scenario.ts then runs the real `fleetbench serve
 * --lan-services` on ports 53 and 123, `dig`, `ntpdig` and `fleetbench sim` against `mdash.net`.
 * Needs root (or CAP_SYS_ADMIN) for the namespace; anywhere else it says why it is skipped.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const tools = ['unshare', 'ip', 'dig', 'ntpdig'];
const missing = tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const canUnshare = missing.length === 0 && spawnSync('unshare', ['-n', '-m', 'true']).status === 0;
const why =
  missing.length > 0
    ? `missing ${missing.join(', ')} (scripts/test-all.sh installs them)`
    : 'unshare -n -m is not permitted here (needs root or CAP_SYS_ADMIN)';
if (!canUnshare) console.warn(`offline LAN test skipped: ${why}`);

const dir = mkdtempSync(join(tmpdir(), 'fb-offline-ns-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Step {
  out: string;
  code: number;
}
interface Scenario {
  dns: Step;
  refused: Step;
  ntp: Step;
  device: { id: string; online: boolean; shadow: { state: { reported: { ota?: object } } } };
  lan: { sntp: { listening: boolean; answered: number }; dns: { listening: boolean } };
  error?: string;
}

describe.skipIf(!canUnshare)('offline LAN (network namespace with only lo)', () => {
  it('a device that asks 8.8.8.8 gets names and time from the hub, then connects to mdash.net', async () => {
    const resolv = join(dir, 'resolv.conf');
    writeFileSync(resolv, 'nameserver 8.8.8.8\noptions timeout:2 attempts:1\n');
    const script = [
      'set -e',
      'ip link set lo up',
      'ip addr add 8.8.8.8/32 dev lo',
      `mount --bind ${resolv} /etc/resolv.conf`,
      `exec "${process.execPath}" --import tsx test/support/offline-lan-scenario.ts`,
    ].join('\n');
    const { stdout } = await run('unshare', ['-n', '-m', 'bash', '-c', script], {
      cwd: process.cwd(),
      timeout: 90_000,
    });
    const line = stdout.split('\n').find((l) => l.startsWith('{"result"'));
    expect(line, stdout).toBeDefined();
    const r = (JSON.parse(line ?? '{}') as { result: Scenario }).result;
    expect(r.error, JSON.stringify(r)).toBeUndefined();
    // The name the mDash library asks for resolves to the hub (the address the query came to).
    expect(r.dns.code).toBe(0);
    expect(r.dns.out).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    // A name the hub does not own is refused: nothing is sent anywhere.
    expect(r.refused.out).toContain('status: REFUSED');
    // A real NTP client, resolving through the hub, takes the hub's time.
    expect(r.ntp.code, r.ntp.out).toBe(0);
    const ntp = JSON.parse(r.ntp.out) as { offset: number; stratum: number; host: string };
    expect(ntp.host).toBe('time.google.com');
    expect(Math.abs(ntp.offset)).toBeLessThan(0.5);
    expect(r.lan.sntp.answered).toBeGreaterThan(0);
    // The device reached ws://mdash.net:8009 and the hub has it online with its Sys.GetInfo.
    expect(r.device.id).toBe('field-1');
    expect(r.device.online).toBe(true);
    expect(r.device.shadow.state.reported.ota).toBeDefined();
  }, 120_000);
});

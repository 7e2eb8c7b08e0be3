/**
 * GET /api/v2/doctor against a real hub on port 0 with its real LAN services (SNTP and DNS on
 * free high UDP ports, answered by the hub's responders and probed by the doctor's own clients),
 * and `fleetbench doctor` exit codes against a running hub and with none.
 */
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '../../../src/main/hub';
import { lanAddresses } from '../../../src/main/hub-urls';
import { portFree } from '../../../src/main/lan/doctor-local';
import type { DoctorReport } from '../../../src/shared/lan';
import { CLI_ENV } from '../../support/cli-fixture';
import { runCli } from '../../support/cli-runner';

const dir = mkdtempSync(join(tmpdir(), 'fb-doctor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A UDP port bound on loopback (kept when `hold`, else released for the hub to take). */
async function udpPort(hold: boolean): Promise<number> {
  const s: Socket = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  if (hold) cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
  else await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function hubWith(
  name: string,
  extra: Partial<Parameters<typeof createHub>[0]> = {},
): Promise<{ hub: Hub; http: string }> {
  const hub = createHub({
    dataDir: join(dir, name),
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    ...extra,
  });
  const urls = await hub.start();
  cleanups.push(() => hub.stop());
  return { hub, http: urls.http };
}

async function doctor(hub: Hub, http: string, query = ''): Promise<DoctorReport> {
  const res = await fetch(`${http}/api/v2/doctor${query}`, {
    headers: { authorization: `Bearer ${hub.masterKey()}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as DoctorReport;
}

const byId = (r: DoctorReport, id: string) => r.checks.find((c) => c.id === id);

describe('GET /api/v2/doctor', () => {
  it('needs the master key', async () => {
    const { http } = await hubWith('auth');
    expect((await fetch(`${http}/api/v2/doctor`)).status).toBe(401);
  });

  it('probes the real SNTP and DNS responders and passes them', async () => {
    const sntpPort = await udpPort(false);
    const dnsPort = await udpPort(false);
    const { hub, http } = await hubWith('lan-ok', {
      lan: { enabled: true, sntpPort, dnsPort },
    });
    const r = await doctor(hub, http);
    expect(r.checked_at).toBeGreaterThan(0);
    expect(r.checks.map((c) => c.id)).toEqual([
      'lan-address',
      'http-port',
      'tls-port',
      'sntp',
      'dns',
      'tls-cert',
      'clock',
      'mdns',
    ]);
    expect(byId(r, 'sntp')).toMatchObject({
      state: 'ok',
      detail: expect.stringContaining(`UDP ${sntpPort} answered an SNTP request`),
    });
    expect(byId(r, 'dns')).toMatchObject({
      state: 'ok',
      detail: expect.stringContaining(`time.google.com -> 127.0.0.1`),
    });
    expect(byId(r, 'tls-port')?.state).toBe('skip');
    expect(byId(r, 'mdns')?.state).toBe('skip');
    expect(byId(r, 'clock')?.state).toBe('skip');
  });

  it('a responder on a taken port fails with the service fix; the hub keeps answering', async () => {
    const taken = await udpPort(true);
    const dnsPort = await udpPort(false);
    const { hub, http } = await hubWith('lan-taken', {
      lan: { enabled: true, sntpPort: taken, dnsPort },
    });
    const sntp = byId(await doctor(hub, http), 'sntp');
    expect(sntp?.state).toBe('fail');
    expect(sntp?.detail).toContain(String(taken));
    expect(sntp?.fix).toBeTruthy();
  });

  it('compares the clock with ?ntp_server (the hub itself as the server) and refuses a bad one', async () => {
    const sntpPort = await udpPort(false);
    const { hub, http } = await hubWith('ntp', {
      lan: { enabled: true, sntpPort, dnsPort: await udpPort(false) },
    });
    const clock = byId(await doctor(hub, http, `?ntp_server=127.0.0.1:${sntpPort}`), 'clock');
    expect(clock).toMatchObject({
      state: 'ok',
      detail: expect.stringMatching(/^within \d+ ms of 127\.0\.0\.1:/),
    });
    const bad = await fetch(`${http}/api/v2/doctor?ntp_server=${encodeURIComponent('http://x/')}`, {
      headers: { authorization: `Bearer ${hub.masterKey()}` },
    });
    expect(bad.status).toBe(400);
  });

  it('reads the interfaces the hub was given (GET /api/v2/lan too), not the machine ones', async () => {
    // TEST-NET-1: no machine has it, so only an injected table can show it.
    const iface = {
      lo: [
        {
          address: '127.0.0.1',
          netmask: '255.0.0.0',
          family: 'IPv4' as const,
          mac: '00:00:00:00:00:00',
          internal: true,
          cidr: null,
        },
      ],
      eth9: [
        {
          address: '192.0.2.77',
          netmask: '255.255.255.0',
          family: 'IPv4' as const,
          mac: '00:00:00:00:00:00',
          internal: false,
          cidr: null,
        },
      ],
    };
    const { hub, http } = await hubWith('injected', { networkInterfaces: () => iface });
    expect(byId(await doctor(hub, http), 'lan-address')?.detail).toContain('192.0.2.77');
    expect(hub.services().lan.status().addresses).toEqual(['192.0.2.77']);
  });

  it('a hub bound to loopback on a machine with a LAN address fails the port check with --host', async () => {
    if (lanAddresses().length === 0) return; // nothing to probe on the LAN here
    const { hub, http } = await hubWith('loopback');
    const port = Number(new URL(http).port);
    const c = byId(await doctor(hub, http), 'http-port');
    expect(c).toMatchObject({
      state: 'fail',
      fix: `Restart the hub on every interface:\n  fleetbench serve --host 0.0.0.0 --port ${port}`,
    });
  });
});

describe('fleetbench doctor', () => {
  it('with no hub: exit 1, says how to start it, and runs the local checks', async () => {
    const port = await freeTcpPort();
    const r = await runCli(
      [
        'doctor',
        '--hub',
        `http://127.0.0.1:${port}`,
        '--data-dir',
        join(dir, 'none'),
        '--tls-port',
        'off',
      ],
      CLI_ENV,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`[FAIL] Hub running`);
    // The command on a line of its own under the fix, ready to paste.
    expect(r.stdout.split('\n').map((l) => l.trim())).toContain(
      `fleetbench serve --data-dir ${join(dir, 'none')} --port ${port}`,
    );
    expect(r.stdout).toMatch(
      new RegExp(`\\[ ok \\] HTTP port ${port} +port ${port} is free for the hub`),
    );
    expect(r.stdout).toMatch(/\[ ok \] Data dir/);
  });

  it('against a hub: --json prints the report; a failing check is exit 1 with its fix under it', async () => {
    const taken = await udpPort(true);
    const { hub, http } = await hubWith('cli-fail', {
      lan: { enabled: true, sntpPort: taken, dnsPort: await udpPort(false) },
    });
    const args = ['doctor', '--hub', http, '--key', hub.masterKey()];
    const json = await runCli([...args, '--json'], CLI_ENV);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as DoctorReport;
    expect(report.checks.find((c) => c.id === 'sntp')?.state).toBe('fail');
    const text = await runCli(args, CLI_ENV);
    expect(text.code).toBe(1);
    const lines = text.stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith('[FAIL] SNTP'));
    expect(at).toBeGreaterThanOrEqual(0);
    expect(lines[at + 1]).toMatch(/^ {7}fix: /);
  });

  it('against a healthy hub: exit 0', async () => {
    if (lanAddresses().length === 0) return; // the LAN address check fails on a machine without one
    const { hub, http } = await hubWith('cli-ok', { host: '0.0.0.0' });
    const r = await runCli(['doctor', '--hub', http, '--key', hub.masterKey()], CLI_ENV);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('no check failed');
  });
});

async function freeTcpPort(): Promise<number> {
  for (let p = 20000 + Math.floor(Math.random() * 20000); ; p++) {
    if ((await portFree(p, '127.0.0.1')) === true && (await portFree(p)) === true) return p;
  }
}

import { describe, expect, it } from 'vitest';
import {
  checkCert,
  checkClock,
  checkDns,
  checkHttpPort,
  checkLanAddress,
  checkMdns,
  checkSntp,
  checkTlsPort,
  doctorExitCode,
  evaluateDoctor,
  MAX_CLOCK_OFFSET_MS,
  RELEASE_YEAR,
  type DoctorInputs,
} from '../../../src/main/lan/doctor-checks';
import type { ResponderStatus } from '../../../src/shared/lan';

const NOW = Date.UTC(RELEASE_YEAR, 5, 1);
const up = (port: number): ResponderStatus => ({ port, listening: true, answered: 0 });

/** A healthy site: every check ok (or skip where nothing is configured). */
function healthy(): DoctorInputs {
  return {
    addresses: ['192.168.1.10'],
    lanAddress: null,
    probedHost: '192.168.1.10',
    serviceHost: '192.168.1.10',
    bindHost: '0.0.0.0',
    httpPort: 8009,
    http: { ok: true },
    tlsPort: 8443,
    tls: { ok: true },
    lan: { enabled: true, sntp: up(123), dns: up(53) },
    sntp: { ok: true, stratum: 2, offsetMs: 0, roundTripMs: 1 },
    dns: { ok: true, rcode: 'NOERROR', answers: ['192.168.1.10'] },
    dnsName: 'time.google.com',
    cert: {
      kind: 'generated',
      dir: '/d/tls',
      covers: true,
      missing: [],
      validTo: '2028-01-01T00:00:00.000Z',
      expiresSoon: false,
    },
    clock: { nowMs: NOW, newestStoredMs: NOW - 1000, upstream: null },
    mdns: { advertising: true, host: 'fleetbench.local' },
  };
}

describe('doctor checks', () => {
  it('a healthy site has no failure and exits 0', () => {
    const checks = evaluateDoctor(healthy());
    expect(checks.map((c) => c.id)).toEqual([
      'lan-address',
      'http-port',
      'tls-port',
      'sntp',
      'dns',
      'tls-cert',
      'clock',
      'mdns',
    ]);
    expect(checks.filter((c) => c.state !== 'ok').map((c) => [c.id, c.state])).toEqual([
      ['clock', 'skip'],
    ]);
    expect(checks.every((c) => (c.state === 'ok' ? c.fix === undefined : true))).toBe(true);
    expect(doctorExitCode(checks)).toBe(0);
  });

  it('LAN address: none, or a --lan-address this machine lacks, fails with a fix', () => {
    expect(checkLanAddress(healthy())).toMatchObject({
      state: 'ok',
      detail: expect.stringContaining('192.168.1.10'),
    });
    const none = checkLanAddress({ addresses: [], lanAddress: null });
    expect(none.state).toBe('fail');
    expect(none.fix).toContain('--lan-address');
    expect(none.fix).toContain('Connect this machine to the LAN');
    const wrong = checkLanAddress({ addresses: ['10.0.0.5'], lanAddress: '10.0.0.9' });
    expect(wrong.state).toBe('fail');
    expect(wrong.fix).toBe(
      "Use one of this machine's addresses:\n  fleetbench serve --lan-address 10.0.0.5",
    );
  });

  it('HTTP port: refused on the LAN gives the firewall command', () => {
    const c = checkHttpPort({ ...healthy(), http: { ok: false, error: 'ETIMEDOUT' } });
    expect(c.state).toBe('fail');
    expect(c.detail).toContain('192.168.1.10:8009');
    expect(c.fix).toContain('sudo ufw allow 8009/tcp');
  });

  it('HTTP port: a hub bound to loopback is told to bind every interface', () => {
    const c = checkHttpPort({
      ...healthy(),
      bindHost: '127.0.0.1',
      http: { ok: false, error: 'ECONNREFUSED' },
    });
    expect(c.state).toBe('fail');
    expect(c.fix).toBe(
      'Restart the hub on every interface:\n  fleetbench serve --host 0.0.0.0 --port 8009',
    );
  });

  it('TLS port: ok, fail with its firewall command, skip when off', () => {
    expect(checkTlsPort(healthy()).state).toBe('ok');
    const c = checkTlsPort({ ...healthy(), tls: { ok: false, error: 'ETIMEDOUT' } });
    expect(c.state).toBe('fail');
    expect(c.fix).toContain('sudo ufw allow 8443/tcp');
    expect(checkTlsPort({ ...healthy(), tlsPort: null, tls: null }).state).toBe('skip');
  });

  it('SNTP: ok; bind failure shows the service fix; no answer shows the UDP firewall command', () => {
    expect(checkSntp(healthy()).state).toBe('ok');
    const denied = checkSntp({
      ...healthy(),
      lan: {
        enabled: true,
        dns: up(53),
        sntp: {
          port: 123,
          listening: false,
          answered: 0,
          problem: { code: 5031, message: 'cannot bind UDP 123: EACCES', fix: 'sudo setcap ...' },
        },
      },
    });
    expect(denied).toMatchObject({
      state: 'fail',
      detail: 'cannot bind UDP 123: EACCES',
      fix: 'sudo setcap ...',
    });
    const silent = checkSntp({ ...healthy(), sntp: { ok: false, error: 'no answer' } });
    expect(silent.state).toBe('fail');
    expect(silent.fix).toContain('sudo ufw allow 123/udp');
    expect(checkSntp({ ...healthy(), lan: null }).state).toBe('skip');
    const off = checkSntp({ ...healthy(), lan: { enabled: false, sntp: up(123), dns: up(53) } });
    expect(off.state).toBe('warn');
    expect(off.fix).toContain('--lan-services');
  });

  it("DNS: ok for the hub's address; another address or no answer fails with a fix", () => {
    expect(checkDns(healthy())).toMatchObject({ state: 'ok' });
    const other = checkDns({
      ...healthy(),
      dns: { ok: true, rcode: 'NOERROR', answers: ['8.8.4.4'] },
    });
    expect(other.state).toBe('fail');
    expect(other.detail).toContain('8.8.4.4');
    expect(other.fix).toContain('--lan-address 192.168.1.10');
    const refused = checkDns({ ...healthy(), dns: { ok: true, rcode: 'REFUSED', answers: [] } });
    expect(refused.detail).toContain('REFUSED');
    const silent = checkDns({ ...healthy(), dns: { ok: false, error: 'no answer' } });
    expect(silent.fix).toContain('sudo ufw allow 53/udp');
  });

  it('TLS certificate: missing names or expiry fail with the restart fix; user cert too', () => {
    expect(checkCert(healthy()).state).toBe('ok');
    const stale = checkCert({
      cert: {
        kind: 'generated',
        dir: '/d/tls',
        covers: false,
        missing: ['192.168.1.10', 'fleetbench.local'],
        validTo: '2028-01-01T00:00:00.000Z',
        expiresSoon: false,
      },
    });
    expect(stale.state).toBe('fail');
    expect(stale.detail).toBe(
      'the server certificate does not cover: 192.168.1.10, fleetbench.local',
    );
    expect(stale.fix).toContain('Restart the hub');
    expect(stale.fix).toContain('/d/tls/ca.pem stays');
    const missing = checkCert({ cert: { kind: 'missing', dir: '/d/tls' } });
    expect(missing.state).toBe('fail');
    expect(missing.fix).toContain('fleetbench serve');
    const user = checkCert({
      cert: { kind: 'user', certFile: '/c.pem', covers: false, missing: ['10.0.0.5'] },
    });
    expect(user.fix).toContain('subjectAltName lists 10.0.0.5');
    expect(checkCert({ cert: { kind: 'off' } }).state).toBe('skip');
  });

  it('clock: before the release year or the newest stored event fails; offsets compared', () => {
    const early = checkClock({
      clock: { nowMs: Date.UTC(2000, 0, 1), newestStoredMs: null, upstream: null },
    });
    expect(early.state).toBe('fail');
    expect(early.fix).toContain('timedatectl');
    const back = checkClock({
      clock: { nowMs: NOW, newestStoredMs: NOW + 60_000, upstream: null },
    });
    expect(back.state).toBe('fail');
    expect(back.detail).toContain('went backwards');
    const skipped = checkClock(healthy());
    expect(skipped.state).toBe('skip');
    expect(skipped.detail).toContain('no upstream NTP server');
    const server = 'ntp.lan';
    const off = checkClock({
      clock: {
        nowMs: NOW,
        newestStoredMs: null,
        upstream: {
          server,
          probe: { ok: true, stratum: 2, offsetMs: MAX_CLOCK_OFFSET_MS + 1, roundTripMs: 1 },
        },
      },
    });
    expect(off.state).toBe('fail');
    expect(off.fix).toContain('sudo ntpdate ntp.lan');
    const near = checkClock({
      clock: {
        nowMs: NOW,
        newestStoredMs: null,
        upstream: { server, probe: { ok: true, stratum: 2, offsetMs: -12, roundTripMs: 1 } },
      },
    });
    expect(near).toMatchObject({ state: 'ok', detail: 'within 12 ms of ntp.lan' });
    const gone = checkClock({
      clock: {
        nowMs: NOW,
        newestStoredMs: null,
        upstream: { server, probe: { ok: false, error: 'no answer' } },
      },
    });
    expect(gone.state).toBe('skip');
    expect(gone.detail).toContain('did not answer');
  });

  it('mDNS: advertising ok, not advertising fails with a fix, absent skips', () => {
    expect(checkMdns(healthy()).detail).toBe('advertising fleetbench.local');
    const down = checkMdns({ mdns: { advertising: false, problem: 'EADDRINUSE 5353' } });
    expect(down).toMatchObject({ state: 'fail', detail: 'EADDRINUSE 5353' });
    expect(down.fix).toContain('5353/udp');
    expect(checkMdns({ mdns: null }).state).toBe('skip');
  });

  it('every failing check carries a fix; one failure makes exit code 1', () => {
    const checks = evaluateDoctor({
      ...healthy(),
      addresses: [],
      http: { ok: false, error: 'ECONNREFUSED' },
      sntp: { ok: false, error: 'no answer' },
    });
    const failed = checks.filter((c) => c.state === 'fail');
    expect(failed.map((c) => c.id)).toEqual(['lan-address', 'http-port', 'sntp']);
    expect(failed.every((c) => (c.fix ?? '').length > 0)).toBe(true);
    expect(doctorExitCode(checks)).toBe(1);
  });
});

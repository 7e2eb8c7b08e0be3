/**
 * LAN services with real clients on loopback (issue 12): a real hub with the SNTP server and the
 * DNS responder on free high ports, `dig` as the resolver, chronyd as the NTP client, a second
 * responder as the upstream, raw datagrams for hostile input, and the REST status and settings.
 * The privilege failure path runs the real CLI as `nobody` asking for ports 123 and 53.
 */
import { execFile, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/main/config';
import { LanServices } from '../../../src/main/lan/lan-services';
import { lanAddresses } from '../../../src/main/hub-urls';
import { ERRORS } from '../../../src/shared/errors';
import type { LanStatus } from '../../../src/shared/lan';
import { BIN } from '../../support/cli-runner';
import { startTestHub, type ErrorBody, type TestHub } from '../../support/hub-harness';

const run = promisify(execFile);
const have = (tool: string): boolean =>
  ['/usr/bin', '/usr/sbin', '/bin', '/sbin'].some((d) => existsSync(join(d, tool)));
const haveDig = have('dig');
const haveChronyd = have('chronyd');
if (!haveDig) console.warn('LAN services: dig missing (apt install dnsutils): DNS checks skipped');
if (!haveChronyd)
  console.warn('LAN services: chronyd missing (apt install chrony): SNTP check skipped');

const quietLog = { warn: () => {}, info: () => {} };

async function dig(port: number, name: string, type = 'A', extra: string[] = []): Promise<string> {
  const { stdout } = await run('dig', [
    '@127.0.0.1',
    '-p',
    String(port),
    name,
    type,
    '+time=2',
    '+tries=1',
    ...extra,
  ]);
  return stdout;
}
const status = (out: string): string => /status: (\w+)/.exec(out)?.[1] ?? `none in: ${out}`;
const short = async (port: number, name: string): Promise<string> =>
  (await dig(port, name, 'A', ['+short'])).trim();

/** A UDP port that was free a moment ago (PUT needs a real one: 0 is not a valid setting). */
async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe.skipIf(!haveDig)('LAN services with real clients (dig, chronyd)', () => {
  let t: TestHub;
  let lan: () => LanStatus;

  beforeAll(async () => {
    t = await startTestHub({
      lan: { enabled: true, sntpPort: 0, dnsPort: 0, dnsUpstreamTimeoutMs: 400 },
    });
    lan = () => t.hub.services().lan.status();
  });
  afterAll(() => t.stop());

  it('reports both responders listening in GET /api/v2/lan (master key only)', async () => {
    const r = await t.api<LanStatus>('GET', '/api/v2/lan');
    expect(r.status).toBe(200);
    expect(r.body.enabled).toBe(true);
    expect(r.body.sntp.listening).toBe(true);
    expect(r.body.dns.listening).toBe(true);
    expect(r.body.sntp.port).toBeGreaterThan(0);
    expect(r.body.dns.names).toContain('time.google.com');
    expect(r.body.dns.upstream).toBeNull();
    expect((await t.api('GET', '/api/v2/lan', undefined, null)).status).toBe(401);
  });

  it('answers time.google.com, pool.ntp.org subdomains and mdash.net with 127.0.0.1 on loopback', async () => {
    const port = lan().dns.port;
    expect(await short(port, 'time.google.com')).toBe('127.0.0.1');
    expect(await short(port, '0.pool.ntp.org')).toBe('127.0.0.1');
    expect(await short(port, 'europe.pool.ntp.org')).toBe('127.0.0.1');
    expect(await short(port, 'MDASH.NET')).toBe('127.0.0.1');
    const full = await dig(port, 'time.google.com');
    expect(full).toMatch(/time\.google\.com\.\s+60\s+IN\s+A\s+127\.0\.0\.1/);
    expect(full).toMatch(/flags: qr aa rd/);
  });

  it('answers AAAA of those names with an empty NOERROR and refuses everything else', async () => {
    const port = lan().dns.port;
    const aaaa = await dig(port, 'time.google.com', 'AAAA');
    expect(status(aaaa)).toBe('NOERROR');
    expect(aaaa).toMatch(/ANSWER: 0/);
    expect(status(await dig(port, 'example.com'))).toBe('REFUSED');
    expect(status(await dig(port, 'google.com'))).toBe('REFUSED');
    expect(lan().dns.answered).toBeGreaterThanOrEqual(5);
    expect(lan().dns.refused).toBeGreaterThanOrEqual(2);
  });

  it('drops malformed and oversized datagrams, counts them, and keeps answering', async () => {
    const port = lan().dns.port;
    const raw = createSocket('udp4');
    const send = (b: Buffer): Promise<void> =>
      new Promise((r, j) => raw.send(b, port, '127.0.0.1', (e) => (e ? j(e) : r())));
    await send(Buffer.from('garbage'));
    await send(Buffer.from([0, 1, 1, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0]));
    await send(Buffer.alloc(1500, 0x41));
    await send(Buffer.alloc(0));
    // The same junk at the SNTP port.
    await new Promise<void>((r) =>
      raw.send(Buffer.from('x'), lan().sntp.port, '127.0.0.1', () => r()),
    );
    raw.close();
    expect(await short(port, 'time.google.com')).toBe('127.0.0.1');
    const s = lan();
    expect(s.dns.dropped?.['malformed']).toBeGreaterThanOrEqual(3);
    expect(s.dns.dropped?.['too_large']).toBe(1);
    expect(s.sntp.dropped?.['short']).toBe(1);
    expect(s.dns.listening && s.sntp.listening).toBe(true);
  });

  it.skipIf(!haveChronyd)('serves the time to chronyd with a small offset', async () => {
    const port = lan().sntp.port;
    // -Q: measure only, never touch the clock; -f /dev/null: no system config.
    const { stdout, stderr } = await run(
      'chronyd',
      ['-Q', '-f', '/dev/null', '-t', '10', `server 127.0.0.1 port ${port} iburst maxsamples 1`],
      { timeout: 15_000 },
    );
    const out = stdout + stderr;
    const m = /System clock wrong by (-?[\d.]+) seconds/.exec(out);
    expect(m, out).not.toBeNull();
    expect(Math.abs(Number(m?.[1]))).toBeLessThan(0.05);
    expect(lan().sntp.answered).toBeGreaterThanOrEqual(1);
  });

  describe('forwarding to an upstream', () => {
    let upstream: LanServices;
    let silent: Socket;

    beforeAll(async () => {
      // A second responder instance as the upstream, answering its own name.
      upstream = new LanServices({
        config: resolveConfig({
          dataDir: mkdtempSync(join(tmpdir(), 'fb-lan-up-')),
          host: '127.0.0.1',
          lan: {
            enabled: true,
            sntpPort: 0,
            dnsPort: 0,
            dnsNames: ['printer.example.test'],
            lanAddress: '10.9.8.7',
          },
        }),
        log: quietLog,
      });
      await upstream.start();
      silent = createSocket('udp4');
      await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    });
    afterAll(async () => {
      // Back to no upstream for the other tests.
      await t.api('PUT', '/api/v2/lan', { upstream: null });
      await upstream.stop();
      silent.close();
    });

    it('relays names it does not answer to the upstream; its own names stay local', async () => {
      const up = upstream.status().dns.port;
      const r = await t.api<LanStatus>('PUT', '/api/v2/lan', { upstream: `127.0.0.1:${up}` });
      expect(r.status).toBe(200);
      expect(r.body.dns.upstream).toBe(`127.0.0.1:${up}`);
      const port = r.body.dns.port;
      expect(await short(port, 'printer.example.test')).toBe('10.9.8.7');
      expect(await short(port, 'time.google.com')).toBe('127.0.0.1');
      // The upstream refuses what it does not know: relayed as is.
      expect(status(await dig(port, 'example.com'))).toBe('REFUSED');
      expect(lan().dns.forwarded).toBe(2);
    });

    it('answers SERVFAIL when the upstream does not answer in time', async () => {
      const r = await t.api<LanStatus>('PUT', '/api/v2/lan', {
        upstream: `127.0.0.1:${silent.address().port}`,
      });
      const started = Date.now();
      expect(status(await dig(r.body.dns.port, 'printer.example.test'))).toBe('SERVFAIL');
      expect(Date.now() - started).toBeGreaterThanOrEqual(350);
      expect(lan().dns.failed).toBe(1);
    });
  });

  it('PUT validates: ports 1-65535, DNS names, ip[:port] upstream, IPv4 lan_address', async () => {
    const bad = [
      { sntp_port: 0 },
      { dns_port: 70000 },
      { dns_port: 'x' },
      { names: ['not a name'] },
      { names: ['*.'] },
      { names: ['a..b'] },
      { upstream: 'dns.example:53' },
      { upstream: '10.0.0.1:99999' },
      { lan_address: '300.1.1.1' },
      { lan_address: 'fe80::1' },
      { enabled: 'yes' },
      { unknown: 1 },
    ];
    for (const body of bad) {
      const r = await t.api<ErrorBody>('PUT', '/api/v2/lan', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe(ERRORS.validation_failed.code);
    }
    // The same problem text as settings.json and `serve --dns-upstream` (the shared schema's).
    const port = await t.api<ErrorBody>('PUT', '/api/v2/lan', { upstream: '10.0.0.1:99999' });
    expect(port.body.error.message).toBe('/upstream: the port must be 1-65535');
    expect(lan().dns.listening).toBe(true);
  });

  it('PUT saves settings.json (mode 0600) and applies at once: new names, lan_address, ports', async () => {
    const [sntpPort, dnsPort] = [await freeUdpPort(), await freeUdpPort()];
    const r = await t.api<LanStatus>('PUT', '/api/v2/lan', {
      sntp_port: sntpPort,
      dns_port: dnsPort,
      names: ['hub.lan', '*.ntp.lan'],
      lan_address: '192.0.2.10',
    });
    expect(r.status).toBe(200);
    expect(r.body.sntp).toMatchObject({ port: sntpPort, listening: true });
    expect(r.body.dns).toMatchObject({
      port: dnsPort,
      listening: true,
      names: ['hub.lan', '*.ntp.lan'],
    });
    expect(await short(dnsPort, 'a.ntp.lan')).toBe('192.0.2.10');
    expect(status(await dig(dnsPort, 'time.google.com'))).toBe('REFUSED');
    const file = join(t.dataDir, 'settings.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8')).lan).toMatchObject({
      sntp_port: sntpPort,
      dns_port: dnsPort,
      lan_address: '192.0.2.10',
    });
    // Switched off: both sockets closed, the switch saved.
    const off = await t.api<LanStatus>('PUT', '/api/v2/lan', { enabled: false });
    expect(off.body.enabled).toBe(false);
    expect(off.body.dns.listening).toBe(false);
    await expect(dig(dnsPort, 'hub.lan')).rejects.toThrow();
  });
});

const lanIp = lanAddresses()[0];

describe.skipIf(!haveDig || lanIp === undefined)('answers with the query interface address', () => {
  it('a query arriving on the LAN interface gets that address, one on loopback 127.0.0.1', async () => {
    const lan = new LanServices({
      config: resolveConfig({
        dataDir: mkdtempSync(join(tmpdir(), 'fb-lan-if-')),
        host: '0.0.0.0',
        lan: { enabled: true, sntpPort: 0, dnsPort: 0 },
      }),
      log: quietLog,
    });
    await lan.start();
    try {
      const port = lan.status().dns.port;
      const ip = lanIp ?? '';
      const { stdout } = await run('dig', [
        '-b',
        ip,
        `@${ip}`,
        '-p',
        String(port),
        'time.google.com',
        '+short',
        '+time=2',
        '+tries=1',
      ]);
      expect(stdout.trim()).toBe(ip);
      expect(await short(port, 'time.google.com')).toBe('127.0.0.1');
    } finally {
      await lan.stop();
    }
  });
});

describe('LAN settings across restarts', () => {
  let t: TestHub | null = null;
  afterEach(async () => {
    await t?.stop();
    t = null;
  });

  it('starts from settings.json; options (serve flags) win over it for the run', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fb-lan-set-'));
    const dnsPort = await freeUdpPort();
    writeFileSync(
      join(dataDir, 'settings.json'),
      JSON.stringify({ lan: { enabled: true, dns_port: dnsPort, names: ['saved.lan'] }, other: 1 }),
    );
    t = await startTestHub({ dataDir, lan: { sntpPort: 0, dnsNames: ['flag.lan'] } });
    const s = t.hub.services().lan.status();
    expect(s.enabled).toBe(true);
    expect(s.dns.port).toBe(dnsPort);
    expect(s.dns.names).toEqual(['flag.lan']);
    // A PUT keeps keys of settings.json it does not know.
    await t.api('PUT', '/api/v2/lan', { enabled: false });
    expect(JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8'))).toMatchObject({
      other: 1,
      lan: { enabled: false, names: ['saved.lan'] },
    });
  });

  it('a corrupt settings.json is a warning, never a failed start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fb-lan-bad-'));
    writeFileSync(join(dataDir, 'settings.json'), '{"lan": {"enabled": tr');
    t = await startTestHub({ dataDir });
    const lan = t.hub.services().lan;
    expect(lan.status().enabled).toBe(false);
    expect(lan.settingsWarning).toMatch(/not valid JSON/);
    writeFileSync(join(dataDir, 'settings.json'), '{"lan": {"dns_port": -1}}');
    await t.stop();
    t = await startTestHub({ dataDir });
    expect(t.hub.services().lan.settingsWarning).toMatch(/does not fit its schema/);
  });

  it('a port in use (EADDRINUSE) keeps the hub running and reports the problem and fix', async () => {
    const holder = createSocket('udp4');
    await new Promise<void>((r) => holder.bind(0, '127.0.0.1', r));
    const taken = holder.address().port;
    try {
      t = await startTestHub({ lan: { enabled: true, sntpPort: 0, dnsPort: taken } });
      const r = await t.api<LanStatus>('GET', '/api/v2/lan');
      expect(r.body.sntp.listening).toBe(true);
      expect(r.body.dns.listening).toBe(false);
      expect(r.body.dns.problem?.code).toBe(ERRORS.lan_port_in_use.code);
      expect(r.body.dns.problem?.message).toContain(`127.0.0.1:${taken}`);
      expect(r.body.dns.problem?.fix).toContain(`sport = :${taken}`);
      // The hub works: devices, REST.
      expect((await t.api('GET', '/api/v2/devices')).status).toBe(200);
      // Freed and applied again: listening.
      await new Promise<void>((r2) => holder.close(() => r2()));
      const again = await t.api<LanStatus>('PUT', '/api/v2/lan', { dns_port: taken });
      expect(again.body.dns).toMatchObject({ listening: true, port: taken });
      expect(again.body.dns.problem).toBeUndefined();
    } finally {
      try {
        holder.close();
      } catch {
        // closed above
      }
    }
  });
});

/** Non-root cannot bind below ip_unprivileged_port_start (1024 on a stock kernel). */
const unprivilegedStart = ((): number => {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
  } catch {
    return 1024;
  }
})();
const isRoot = process.getuid?.() === 0;
const canDropToNobody = isRoot && have('setpriv');

describe.skipIf(unprivilegedStart <= 53 || (isRoot && !canDropToNobody))(
  'ports 123 and 53 without privileges (EACCES)',
  () => {
    it('serve keeps running, prints the problem with the setcap and redirect fix, REST reports it', async () => {
      // `nobody` creates the data dir itself (the hub sets its mode, which only its owner may).
      const parent = mkdtempSync(join(tmpdir(), 'fb-lan-priv-'));
      chmodSync(parent, 0o777);
      const dataDir = join(parent, 'data');
      const serveArgs = [
        BIN,
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--tls-port',
        'off',
        '--data-dir',
        dataDir,
        '--lan-services',
        '--sntp-port',
        '123',
        '--dns-port',
        '53',
      ];
      const [cmd, args] = canDropToNobody
        ? [
            'setpriv',
            ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, ...serveArgs],
          ]
        : [process.execPath, serveArgs];
      const child = spawn(cmd, args, {
        env: { ...process.env, FLEETBENCH_FROM_SOURCE: '1', HOME: parent },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      try {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 60_000);
          // Until serve's own lines end with the DNS fix: the log's JSON says it too (with `\n`
          // escaped), and may come before serve has printed its LAN lines.
          const check = (): void => {
            if (
              out.includes('REST API') &&
              out.includes(
                '\n        sudo nft add rule ip nat prerouting udp dport 53 redirect to :1053\n',
              )
            ) {
              clearTimeout(timer);
              resolve();
            }
          };
          child.stdout.on('data', check);
          child.on('exit', () => reject(new Error(`serve exited:\n${out}`)));
        });
        expect(out).toMatch(/SNTP\s+NOT LISTENING: SNTP cannot listen on UDP 127\.0\.0\.1:123/);
        expect(out).toContain(`sudo setcap 'cap_net_bind_service=+ep' ${process.execPath}`);
        expect(out).toContain(
          'sudo iptables -t nat -A PREROUTING -p udp --dport 123 -j REDIRECT --to-ports 1123',
        );
        expect(out).toContain('--sntp-port 1123 --dns-port 1053');
        const http = /REST API:\s+(http:\/\/\S+)\/api\/v2/.exec(out)?.[1];
        const key = /master key: (\S+)/.exec(out)?.[1];
        const res = await fetch(`${http}/api/v2/lan`, {
          headers: { authorization: `Bearer ${key}` },
        });
        const s = (await res.json()) as LanStatus;
        expect(s.enabled).toBe(true);
        for (const r of [s.sntp, s.dns]) {
          expect(r.listening).toBe(false);
          expect(r.problem?.code).toBe(ERRORS.lan_port_denied.code);
          expect(r.problem?.fix).toContain('cap_net_bind_service');
        }
        expect(s.dns.port).toBe(53);
      } finally {
        if (child.exitCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await exited;
        }
      }
    }, 90_000);
  },
);

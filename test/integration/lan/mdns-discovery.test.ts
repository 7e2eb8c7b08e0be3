/**
 * Discovery (issue 12): a real hub advertises by mDNS and independent clients find it. Each run
 * uses its own mDNS port on the loopback interface, so tests never touch the LAN's 5353 and
 * never see each other. Multicast on `lo` works in Linux containers even without the MULTICAST
 * link flag (IP_MULTICAST_LOOP delivers to local members); checked first, and the suite says why
 * if the platform truly lacks it.
 */
import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { hostname, type NetworkInterfaceInfo } from 'node:os';
import { promisify } from 'node:util';
import makeMdns from 'multicast-dns';
import { Bonjour, type Service } from 'bonjour-service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, waitFor, type TestHub } from '../../support/hub-harness';
import { runCli } from '../../support/cli-runner';
import type { HubsList, SeenHub } from '../../../src/shared/lan';
import { dnsLabel } from '../../../src/main/lan/mdns-records';

const run = promisify(execFile);
const PORT = 20_000 + Math.floor(Math.random() * 20_000);
const NAME = `fbt${Math.random().toString(36).slice(2, 8)}`;
const LO = '127.0.0.1';

/** Two multicast-dns sockets on `lo`: does a query from one reach the other? */
async function loopbackMulticastWorks(): Promise<boolean> {
  const a = makeMdns({ port: PORT, interface: LO, bind: '0.0.0.0' });
  const b = makeMdns({ port: PORT, interface: LO, bind: '0.0.0.0' });
  try {
    return await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 1500);
      a.on('query', (q) => {
        if (q.questions[0]?.name === `${NAME}-probe.local`) {
          clearTimeout(t);
          resolve(true);
        }
      });
      b.on('ready', () => b.query(`${NAME}-probe.local`, 'A'));
    });
  } finally {
    a.destroy();
    b.destroy();
  }
}

const multicast = await loopbackMulticastWorks();
if (!multicast) {
  console.warn(
    'mdns-discovery: SKIPPED: multicast on the loopback interface does not work on this platform',
  );
}
const hasDig = await run('dig', ['-v']).then(
  () => true,
  () => false,
);
if (!hasDig)
  console.warn('mdns-discovery: dig checks SKIPPED: dig is not installed (apt dnsutils)');

const discovery = {
  mdns: true,
  mdnsPort: PORT,
  mdnsInterface: LO,
  mdnsHostName: NAME,
  mdnsProbeMs: 100,
};

describe.skipIf(!multicast)('mDNS / DNS-SD discovery (issue 12)', () => {
  let a: TestHub;
  let b: TestHub | null = null;
  beforeAll(async () => {
    a = await startTestHub({ discovery });
    const s = await a.hub.services().mdns?.whenSettled();
    expect(s?.advertising).toBe(true);
  });
  afterAll(async () => {
    await b?.stop();
    await a.stop();
  });

  it('claims <name>.local and answers dig, a plain DNS client, with its A record and service', async () => {
    expect(a.hub.services().mdns?.status().host).toBe(`${NAME}.local`);
    if (!hasDig) return;
    // A unicast query to the mDNS port (RFC 6762 5.5 / 6.7): the hub answers the legacy way.
    const dig = (args: string[]): Promise<string> =>
      run('dig', ['-p', String(PORT), `@${LO}`, '+time=2', '+tries=2', ...args]).then(
        (r) => r.stdout,
      );
    expect((await dig(['+short', `${NAME}.local`, 'A'])).trim()).toBe(LO);
    const browse = await dig(['_fleetbench._tcp.local', 'PTR']);
    // dig escapes the spaces of the instance name as \032.
    expect(browse).toContain(
      `Fleetbench\\032on\\032${hostname().split('.')[0]}._fleetbench._tcp.local.`,
    );
    expect(browse).toMatch(new RegExp(`SRV\\s+0 0 ${new URL(a.http).port} ${NAME}\\.local\\.`));
    expect(browse).toContain(`"device_url=${a.hub.urls().device}"`);
    const http = await dig(['_http._tcp.local', 'PTR']);
    expect(http).toContain('"path=/"');
  });

  it("bonjour-service's browser, on a socket of its own, resolves the service with the right TXT", async () => {
    // multicast-dns options, passed through by bonjour-service (its typings name only its own).
    const socketOptions = { port: PORT, interface: LO, bind: '0.0.0.0' };
    const bonjour = new Bonjour(socketOptions);
    try {
      const found = await new Promise<Service>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no _fleetbench._tcp service seen')), 5000);
        bonjour.find({ type: 'fleetbench' }, (svc) => {
          if (svc.host !== `${NAME}.local`) return;
          clearTimeout(t);
          resolve(svc);
        });
      });
      const urls = a.hub.urls();
      expect(found.port).toBe(Number(new URL(a.http).port));
      expect(found.addresses).toContain(LO);
      expect(found.txt).toMatchObject({
        device_url: urls.device,
        dashboard_url: `${urls.http}/`,
        id: a.hub.services().hubId,
      });
      expect(urls.device).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/api\/v2\/rpc$/);
      expect((found.txt as Record<string, string>)['version']).toMatch(/\d+\.\d+/);
    } finally {
      await new Promise<void>((resolve) => bonjour.destroy(() => resolve()));
    }
  });

  it('a second hub wanting the same name falls back to <name>-<hostname>.local; both list each other', async () => {
    b = await startTestHub({ discovery });
    const sb = await b.hub.services().mdns?.whenSettled();
    expect(sb?.advertising).toBe(true);
    expect(sb?.host).toBe(`${NAME}-${dnsLabel(hostname().split('.')[0] ?? '')}.local`);
    expect(sb?.instance).toContain(`(${b.hub.services().hubId.slice(0, 6)})`);
    // A still holds its name: it answers for it, so B's probe saw it taken.
    expect(a.hub.services().mdns?.status().host).toBe(`${NAME}.local`);

    const bHttp = b.http;
    let listA: HubsList | null = null;
    await waitFor(async () => {
      const r = await a.api<HubsList>('GET', '/api/v2/hubs?wait_ms=500');
      listA = r.body;
      return r.status === 200 && r.body.hubs.length === 2;
    }, 10_000);
    const hubs = (listA as HubsList | null)?.hubs ?? [];
    const self = hubs.find((h) => h.self);
    const other = hubs.find((h) => !h.self);
    expect(self?.id).toBe(a.hub.services().hubId);
    expect(self?.host).toBe(`${NAME}.local`);
    expect(other?.id).toBe(b.hub.services().hubId);
    expect(other?.device_url).toBe(b.hub.urls().device);
    expect(other?.dashboard_url).toBe(`${bHttp}/`);
    expect(other?.addresses).toEqual([LO]);
    expect((listA as HubsList | null)?.mdns).toMatchObject({ enabled: true, advertising: true });

    const fromB = await b.api<HubsList>('GET', '/api/v2/hubs?wait_ms=800');
    expect(fromB.body.hubs.find((h) => h.self)?.id).toBe(b.hub.services().hubId);
  });

  it('`fleetbench hubs` lists both hubs, marking the one of --data-dir', async () => {
    const args = ['hubs', '--mdns-port', String(PORT), '--interface', LO, '--timeout', '1500'];
    const json = await runCli([...args, '--json', '--data-dir', a.dataDir]);
    expect(json.code, json.stderr).toBe(0);
    const hubs = (JSON.parse(json.stdout) as SeenHub[]).filter((h) => h.host.startsWith(NAME));
    expect(hubs.map((h) => h.id).sort()).toEqual(
      [a.hub.services().hubId, b?.hub.services().hubId].sort(),
    );
    expect(hubs.find((h) => h.self)?.id).toBe(a.hub.services().hubId);
    const text = await runCli(args);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`${NAME}.local`);
    expect(text.stdout).toContain(`device URL: ${a.hub.urls().device}`);
  });

  it('a stopped hub says goodbye and drops out of the list', async () => {
    await b?.stop();
    b = null;
    const r = await a.api<HubsList>('GET', '/api/v2/hubs?wait_ms=500');
    expect(r.body.hubs.map((h) => h.id)).toEqual([a.hub.services().hubId]);
  });

  it('refuses a wait_ms above the limit with a coded 400', async () => {
    const r = await a.api<{ error: { code: number } }>('GET', '/api/v2/hubs?wait_ms=10001');
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe(4002);
    expect((await a.api('GET', '/api/v2/hubs?wait_ms=abc')).status).toBe(400);
    expect((await a.api('GET', '/api/v2/hubs?wait_ms=0')).status).toBe(200);
    expect((await a.api('GET', '/api/v2/hubs', undefined, null)).status).toBe(401);
  });
});

describe.skipIf(!multicast)('mDNS records follow a LAN address change (issue 12)', () => {
  let t: TestHub;
  let address = '10.20.30.40';
  const ifaces = (): NodeJS.Dict<NetworkInterfaceInfo[]> => ({
    eth9: [
      {
        address,
        netmask: '255.255.255.0',
        family: 'IPv4',
        mac: '02:00:00:00:00:09',
        internal: false,
        cidr: `${address}/24`,
      },
    ],
  });
  beforeAll(async () => {
    // Bound to all interfaces, so the A records and URLs are the (injected) LAN addresses.
    t = await startTestHub({
      host: '0.0.0.0',
      networkInterfaces: ifaces,
      discovery: { ...discovery, mdnsPort: PORT + 2, addressPollMs: 0 },
    });
    expect((await t.hub.services().mdns?.whenSettled())?.advertising).toBe(true);
  });
  afterAll(async () => {
    await t.stop();
  });

  it('announces the new A record and device URL at once', async () => {
    const self = async (): Promise<SeenHub | undefined> =>
      (await t.api<HubsList>('GET', '/api/v2/hubs?wait_ms=300')).body.hubs.find((h) => h.self);
    expect((await self())?.addresses).toEqual(['10.20.30.40']);
    address = '10.20.30.99';
    expect(await t.hub.services().addresses.checkNow()).toBe(true);
    expect(t.hub.urls().device).toContain('ws://10.20.30.99:');
    const now = await self();
    expect(now?.addresses).toEqual(['10.20.30.99']);
    expect(now?.device_url).toBe(t.hub.urls().device);
    expect(t.hub.services().mdns?.status().addresses).toEqual(['10.20.30.99']);
  });
});

describe('mDNS trouble never stops the hub (issue 12)', () => {
  let holder: Socket;
  let t: TestHub;
  beforeAll(async () => {
    // A socket without SO_REUSEADDR holds the port exclusively, like a responder that does.
    holder = createSocket({ type: 'udp4', reuseAddr: false });
    await new Promise<void>((resolve) => holder.bind(PORT + 1, '0.0.0.0', resolve));
    t = await startTestHub({ discovery: { ...discovery, mdnsPort: PORT + 1 } });
  });
  afterAll(async () => {
    await t.stop();
    holder.close();
  });

  it('reports the port it could not bind, keeps serving, and lists no hubs', async () => {
    const s = await t.hub.services().mdns?.whenSettled();
    expect(s?.advertising).toBe(false);
    expect(s?.problem).toMatch(new RegExp(`UDP ${PORT + 1}.*EADDRINUSE`));
    const r = await t.api<HubsList>('GET', '/api/v2/hubs?wait_ms=100');
    expect(r.status, r.text).toBe(200);
    expect(r.body.hubs).toEqual([]);
    expect(r.body.mdns.problem).toContain('EADDRINUSE');
    expect((await t.api('GET', '/api/v2/devices')).status).toBe(200);
  });

  it('a hub without mDNS reports it off', async () => {
    const off = await startTestHub();
    try {
      expect(off.hub.services().mdns).toBeNull();
      const r = await off.api<HubsList>('GET', '/api/v2/hubs');
      expect(r.body.mdns).toEqual({ enabled: false, advertising: false, addresses: [] });
    } finally {
      await off.stop();
    }
  });
});

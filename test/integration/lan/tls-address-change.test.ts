/**
 * The generated TLS certificate follows the LAN addresses (issue 12): when they change while the
 * hub runs, a new server certificate signed by the same local CA is swapped into the running
 * listener. The interface list is injected, so the change is simulated; the TLS connections are
 * real.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, type NetworkInterfaceInfo } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, waitFor, type TestHub } from '../../support/hub-harness';

function iface(address: string): NodeJS.Dict<NetworkInterfaceInfo[]> {
  return {
    lo: [
      {
        address: '127.0.0.1',
        netmask: '255.0.0.0',
        family: 'IPv4',
        mac: '00:00:00:00:00:00',
        internal: true,
        cidr: '127.0.0.1/8',
      },
    ],
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
  };
}

/**
 * A real handshake with the hub's TLS port that trusts only `ca` and checks the certificate
 * against `identity` (an IP, as a device would dial it): resolves with the served certificate.
 */
function handshake(port: number, ca: string, identity: string): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      ca,
      checkServerIdentity: (_host, cert) => tls.checkServerIdentity(identity, cert),
    });
    socket.once('secureConnect', () => {
      const cert = new X509Certificate(socket.getPeerCertificate().raw);
      socket.end();
      resolve(cert);
    });
    socket.once('error', reject);
  });
}

describe('TLS certificate across a LAN address change (issue 12)', () => {
  let t: TestHub;
  let address = '10.20.30.40';
  let ca: string;
  let port: number;
  beforeAll(async () => {
    t = await startTestHub({
      tlsPort: 0,
      networkInterfaces: () => iface(address),
      // Polling fast enough for the test to see it without calling checkNow().
      discovery: { addressPollMs: 50 },
    });
    const urls = t.hub.urls();
    ca = readFileSync(urls.caPath ?? '', 'utf8');
    port = Number(new URL(urls.https ?? '').port);
  });
  afterAll(async () => {
    await t.stop();
  });

  it('covers the LAN address, localhost, loopback, the host name and the .local names', async () => {
    const cert = await handshake(port, ca, '10.20.30.40');
    expect(cert.checkIP('10.20.30.40')).toBeDefined();
    expect(cert.checkIP('127.0.0.1')).toBeDefined();
    expect(cert.checkIP('::1')).toBeDefined();
    for (const host of ['localhost', hostname(), 'fleetbench.local']) {
      expect(cert.checkHost(host, { subject: 'never' }), host).toBeDefined();
    }
    // The fallback mDNS name too: the hub may end up with it when fleetbench.local is taken.
    const short =
      hostname()
        .split('.')[0]
        ?.toLowerCase()
        .replace(/[^a-z0-9-]+/g, '-') ?? '';
    expect(cert.checkHost(`fleetbench-${short}.local`, { subject: 'never' })).toBeDefined();
    await expect(handshake(port, ca, '10.20.30.99')).rejects.toThrow(/IP: 10.20.30.99/);
  });

  it('after the address changes, a new connection gets a certificate for it chained to the same ca.pem', async () => {
    const before = await handshake(port, ca, '10.20.30.40');
    address = '10.20.30.99';
    // The poll (50 ms) notices it; the handshake trusts only the unchanged CA file.
    let after: X509Certificate | null = null;
    await waitFor(
      async () => {
        after = await handshake(port, ca, '10.20.30.99').catch(() => null);
        return after !== null;
      },
      10_000,
      'a certificate covering 10.20.30.99',
    );
    const now = after as X509Certificate | null;
    expect(now?.checkIP('10.20.30.99')).toBeDefined();
    expect(now?.fingerprint256).not.toBe(before.fingerprint256);
    expect(now?.checkIssued(new X509Certificate(ca))).toBe(true);
    expect(readFileSync(t.hub.urls().caPath ?? '', 'utf8')).toBe(ca);
    // On demand too: nothing changed since, so nothing is re-made.
    expect(await t.hub.services().addresses.checkNow()).toBe(false);
    expect((await handshake(port, ca, '10.20.30.99')).fingerprint256).toBe(now?.fingerprint256);
  });
});

describe('a user-supplied certificate is never replaced (issue 12)', () => {
  let t: TestHub;
  let dir: string;
  let address = '10.20.30.40';
  beforeAll(async () => {
    // A certificate made by a first hub, given to a second as the user's own files.
    const maker = await startTestHub({ tlsPort: 0, networkInterfaces: () => iface(address) });
    const made = join(maker.dataDir, 'tls');
    dir = mkdtempSync(join(tmpdir(), 'fb-usercert-'));
    copyFileSync(join(made, 'server.pem'), join(dir, 'cert.pem'));
    copyFileSync(join(made, 'server.key'), join(dir, 'key.pem'));
    copyFileSync(join(made, 'ca.pem'), join(dir, 'ca.pem'));
    await maker.stop();
    t = await startTestHub({
      tlsPort: 0,
      tlsCertFile: join(dir, 'cert.pem'),
      tlsKeyFile: join(dir, 'key.pem'),
      networkInterfaces: () => iface(address),
      discovery: { addressPollMs: 0 },
    });
  });
  afterAll(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps serving the same certificate after the addresses change', async () => {
    const ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    const port = Number(new URL(t.hub.urls().https ?? '').port);
    const suppliedPem = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const supplied = new X509Certificate(suppliedPem);
    expect((await handshake(port, ca, '10.20.30.40')).fingerprint256).toBe(supplied.fingerprint256);
    address = '10.20.30.99';
    expect(await t.hub.services().addresses.checkNow()).toBe(true);
    const served = await handshake(port, ca, '10.20.30.40');
    expect(served.fingerprint256).toBe(supplied.fingerprint256);
    expect(readFileSync(join(dir, 'cert.pem'), 'utf8')).toBe(suppliedPem);
  });
});

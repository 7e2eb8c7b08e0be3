import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { certCovers, ensureTlsMaterial } from '../../../src/main/tls/tls-material';

describe('TLS material', () => {
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'fb-tls-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('makes a CA and a server certificate it signed, covering the names; keys are owner-only', async () => {
    const dir = tmp();
    const m = await ensureTlsMaterial(dir, { names: ['localhost', '127.0.0.1', 'bench.local'] });
    expect(m.generated).toBe(true);
    const leaf = new X509Certificate(m.cert);
    const ca = new X509Certificate(m.ca ?? '');
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(ca.ca).toBe(true);
    expect(certCovers(m.cert, ['localhost', '127.0.0.1', 'bench.local'])).toBe(true);
    expect(certCovers(m.cert, ['other.local'])).toBe(false);
    expect(statSync(join(dir, 'tls', 'server.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'tls', 'ca.key')).mode & 0o777).toBe(0o600);
  });

  it('reuses everything when nothing changed, and re-makes only the server certificate for a new address', async () => {
    const dir = tmp();
    const a = await ensureTlsMaterial(dir, { names: ['localhost', '10.0.0.5'] });
    const b = await ensureTlsMaterial(dir, { names: ['localhost', '10.0.0.5'] });
    expect(b.generated).toBe(false);
    expect(b.cert).toBe(a.cert);
    const c = await ensureTlsMaterial(dir, { names: ['localhost', '10.0.0.6'] });
    expect(c.generated).toBe(true);
    expect(c.ca).toBe(a.ca);
    expect(c.cert).not.toBe(a.cert);
    expect(certCovers(c.cert, ['10.0.0.6'])).toBe(true);
  });

  it('reuses the certificate of the names a hub asks for, IPv6 loopback included (no new one per start)', async () => {
    const dir = tmp();
    const names = ['localhost', '127.0.0.1', '::1', '10.0.0.5'];
    const a = await ensureTlsMaterial(dir, { names });
    const b = await ensureTlsMaterial(dir, { names });
    expect(b.generated).toBe(false);
    expect(b.cert).toBe(a.cert);
    expect(certCovers(a.cert, ['::1', '0:0:0:0:0:0:0:1'])).toBe(true);
    expect(certCovers(a.cert, ['::2'])).toBe(false);
  });

  it('uses a supplied certificate and key, and insists on both', async () => {
    const dir = tmp();
    const made = await ensureTlsMaterial(tmp(), { names: ['localhost'] });
    writeFileSync(join(dir, 'c.pem'), made.cert);
    writeFileSync(join(dir, 'k.pem'), made.key);
    const m = await ensureTlsMaterial(dir, {
      names: [],
      certFile: join(dir, 'c.pem'),
      keyFile: join(dir, 'k.pem'),
    });
    expect(m.generated).toBe(false);
    expect(m.cert).toBe(readFileSync(join(dir, 'c.pem'), 'utf8'));
    await expect(
      ensureTlsMaterial(dir, { names: [], certFile: join(dir, 'c.pem') }),
    ).rejects.toThrow('both');
  });
});

/**
 * Certificates for the hub's TLS listener (PROTOCOL.md 1: devices connect over ws:// and wss://).
 * Unless the user supplies a certificate and key, the hub makes a local CA once (kept in
 * `<dataDir>/tls/`) and a server certificate signed by it for this machine's names and addresses.
 * Firmware that takes a CA file (Mongoose OS `dash.ca_file`, or `ssl_ca_cert`) is given `ca.pem`;
 * the CA stays the same when the machine's address changes, only the server certificate is re-made.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import type { generate as Generate } from 'selfsigned';

/**
 * selfsigned (and the X.509 code under it) is needed only when a certificate is made, on a first
 * start or a renewal: loaded then, not at every hub start (issue 11, idle RSS and cold start).
 */
async function generate(...args: Parameters<typeof Generate>): ReturnType<typeof Generate> {
  return (await import('selfsigned')).generate(...args);
}

export interface TlsMaterial {
  key: string;
  cert: string;
  /** PEM of the CA that signed `cert` (absent when the user supplied their own certificate). */
  ca?: string;
  caPath?: string;
  generated: boolean;
}

export interface TlsOptions {
  certFile?: string;
  keyFile?: string;
  /** Host names and IP addresses the server certificate must cover. */
  names: string[];
}

const IP_RE = /^(\d{1,3}\.){3}\d{1,3}$|:/;

function writePrivate(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
  if (process.platform !== 'win32') chmodSync(path, 0o600);
}

/** True when the certificate covers every name and is valid for at least a month more. */
export function certCovers(certPem: string, names: string[], now = new Date()): boolean {
  const x = new X509Certificate(certPem);
  if (new Date(x.validTo).getTime() - now.getTime() < 30 * 24 * 3600 * 1000) return false;
  // checkIP compares addresses, not text: the certificate spells ::1 as 0:0:0:0:0:0:0:1, and a
  // text match made a new server certificate (and loaded the X.509 code) at every start.
  return names.every((n) =>
    IP_RE.test(n)
      ? x.checkIP(n) !== undefined
      : x.checkHost(n, { subject: 'never', wildcards: false }) !== undefined,
  );
}

function years(n: number): Date {
  const d = new Date();
  d.setFullYear(d.getFullYear() + n);
  return d;
}

export async function ensureTlsMaterial(dataDir: string, opts: TlsOptions): Promise<TlsMaterial> {
  if (opts.certFile || opts.keyFile) {
    if (!opts.certFile || !opts.keyFile) throw new Error('give both a TLS certificate and its key');
    return {
      cert: readFileSync(opts.certFile, 'utf8'),
      key: readFileSync(opts.keyFile, 'utf8'),
      generated: false,
    };
  }
  const dir = join(dataDir, 'tls');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caPath = join(dir, 'ca.pem');
  const caKeyPath = join(dir, 'ca.key');
  const certPath = join(dir, 'server.pem');
  const keyPath = join(dir, 'server.key');
  let generated = false;
  if (!existsSync(caPath) || !existsSync(caKeyPath)) {
    const ca = await generate(
      [{ name: 'commonName', value: `Fleetbench local CA (${hostname()})` }],
      {
        keyType: 'ec',
        algorithm: 'sha256',
        notAfterDate: years(10),
        extensions: [
          { name: 'basicConstraints', cA: true, critical: true },
          { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
        ],
      },
    );
    writePrivate(caKeyPath, ca.private);
    writeFileSync(caPath, ca.cert);
    generated = true;
  }
  const ca = { cert: readFileSync(caPath, 'utf8'), key: readFileSync(caKeyPath, 'utf8') };
  const names = [...new Set(opts.names)];
  if (
    generated ||
    !existsSync(certPath) ||
    !existsSync(keyPath) ||
    !certCovers(readFileSync(certPath, 'utf8'), names)
  ) {
    const leaf = await generate([{ name: 'commonName', value: names[0] ?? 'localhost' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      notAfterDate: years(2),
      ca,
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: names.map((n) => (IP_RE.test(n) ? { type: 7, ip: n } : { type: 2, value: n })),
        },
      ],
    });
    writePrivate(keyPath, leaf.private);
    writeFileSync(certPath, leaf.cert);
    generated = true;
  }
  return {
    key: readFileSync(keyPath, 'utf8'),
    cert: readFileSync(certPath, 'utf8'),
    ca: ca.cert,
    caPath,
    generated,
  };
}

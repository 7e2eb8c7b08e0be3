/**
 * Where a device's HTTP.Request may go (PROTOCOL.md 2): a device password must not turn the hub
 * into a door to the hub machine or its network. Pure: addresses in, verdicts out. The performer
 * (http-request.ts) resolves the name itself, asks here about every address, and connects to the
 * address it checked (no second lookup, so DNS rebinding between check and connect cannot work).
 *
 * Addresses are compared as bytes, never as text: `::ffff:127.0.0.1`, `::ffff:7f00:1` and
 * `127.0.0.1` are one address. IPv4 written in decimal, octal or hex (`2130706433`, `0177.0.0.1`,
 * `0x7f.1`) never reaches here as such: WHATWG `new URL` normalises it to dotted quad first.
 */
import { isIP } from 'node:net';

export type AddressClass =
  'loopback' | 'link_local' | 'private' | 'unspecified' | 'multicast' | 'reserved' | 'public';

export interface DestinationPolicy {
  allowLoopback: boolean;
  allowLinkLocal: boolean;
  allowPrivate: boolean;
  /** Ports the hub listens on (HTTP, TLS): refused on any of this machine's addresses. */
  ownPorts: readonly number[];
  /** This machine's interface addresses (any textual form), so `<LAN ip>:<hub port>` is refused. */
  localAddresses: readonly string[];
}

/** Whether `host` (without brackets) is an IP address rather than a name. */
export function isIpLiteral(host: string): boolean {
  return isIP(host) !== 0;
}

/** 4 bytes for IPv4, 16 for IPv6, null when `text` is not an IP literal. */
export function ipBytes(text: string): number[] | null {
  const ip = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const kind = isIP(ip);
  if (kind === 4) return ip.split('.').map(Number);
  if (kind !== 6) return null;
  let s = ip;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  // An embedded dotted quad (`::ffff:1.2.3.4`) becomes two hex groups.
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (quad?.[1] !== undefined) {
    const b = quad[1].split('.').map(Number) as [number, number, number, number];
    s = `${s.slice(0, quad.index)}${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const [head = '', tail] = s.split('::') as [string, string | undefined];
  const groups = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((g) => parseInt(g, 16));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

function inV4(b: readonly number[], net: readonly number[], bits: number): boolean {
  for (let i = 0; i < 4; i++) {
    const take = Math.max(0, Math.min(8, bits - i * 8));
    if (take === 0) return true;
    const mask = (0xff << (8 - take)) & 0xff;
    if (((b[i] ?? 0) & mask) !== ((net[i] ?? 0) & mask)) return false;
  }
  return true;
}

function classifyV4(b: readonly number[]): AddressClass {
  if (inV4(b, [0], 8)) return 'unspecified'; // "this network": 0.0.0.0 connects to the host itself
  if (inV4(b, [127], 8)) return 'loopback';
  if (inV4(b, [169, 254], 16)) return 'link_local'; // incl. cloud metadata 169.254.169.254
  if (inV4(b, [224], 4)) return 'multicast';
  if (inV4(b, [240], 4)) return 'reserved'; // incl. broadcast 255.255.255.255
  if (
    inV4(b, [10], 8) ||
    inV4(b, [172, 16], 12) ||
    inV4(b, [192, 168], 16) ||
    inV4(b, [100, 64], 10) || // carrier-grade NAT: someone's LAN, not the internet
    inV4(b, [198, 18], 15) // benchmarking networks
  ) {
    return 'private';
  }
  if (inV4(b, [192, 0, 0], 24)) return 'reserved';
  return 'public';
}

/** The class of an IP literal; null when `ip` is not one. */
export function classifyAddress(ip: string): AddressClass | null {
  const b = ipBytes(ip);
  if (b === null) return null;
  if (b.length === 4) return classifyV4(b);
  const zeroUpTo = (n: number): boolean => b.slice(0, n).every((x) => x === 0);
  // IPv4 inside IPv6 is judged as the IPv4 it carries: mapped ::ffff:a.b.c.d, the deprecated
  // compatible ::a.b.c.d, NAT64 64:ff9b::/96 and 6to4 2002:AABB:CCDD::/48.
  if (zeroUpTo(10) && b[10] === 0xff && b[11] === 0xff) return classifyV4(b.slice(12));
  if (zeroUpTo(15)) return b[15] === 1 ? 'loopback' : 'unspecified';
  if (zeroUpTo(12)) return classifyV4(b.slice(12));
  if (
    b[0] === 0x00 &&
    b[1] === 0x64 &&
    b[2] === 0xff &&
    b[3] === 0x9b &&
    b.slice(4, 12).every((x) => x === 0)
  ) {
    return classifyV4(b.slice(12));
  }
  if (b[0] === 0x20 && b[1] === 0x02) return classifyV4(b.slice(2, 6));
  const b0 = b[0] ?? 0;
  const b1 = b[1] ?? 0;
  if (b0 === 0xff) return 'multicast';
  if (b0 === 0xfe && (b1 & 0xc0) === 0x80) return 'link_local'; // fe80::/10
  if (b0 === 0xfe && (b1 & 0xc0) === 0xc0) return 'private'; // fec0::/10, old site-local
  if ((b0 & 0xfe) === 0xfc) return 'private'; // fc00::/7 unique local
  if (b0 === 0x20 && b1 === 0x01 && b[2] === 0x0d && b[3] === 0xb8) return 'reserved'; // docs
  return 'public';
}

/** The IPv4 an address stands for when it carries one (mapped form), else its own bytes. */
function canonical(ip: string): string | null {
  const b = ipBytes(ip);
  if (b === null) return null;
  const v4 =
    b.length === 16 && b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  return (v4 ? b.slice(12) : b).join('.');
}

/**
 * Why `ip:port` is refused under `policy`, or null when a device may connect there. Non-literal
 * input is refused: callers pass resolved addresses only.
 */
export function refusalOf(ip: string, port: number, policy: DestinationPolicy): string | null {
  const cls = classifyAddress(ip);
  if (cls === null) return `${ip} is not an IP address`;
  const self = canonical(ip);
  const isOwnMachine =
    cls === 'loopback' ||
    cls === 'unspecified' ||
    policy.localAddresses.some((a) => canonical(a) === self);
  if (isOwnMachine && policy.ownPorts.includes(port)) {
    return `${ip}:${port} is this hub's own listener`;
  }
  switch (cls) {
    case 'public':
      return null;
    case 'loopback':
      return policy.allowLoopback ? null : `${ip} is a loopback address`;
    case 'link_local':
      return policy.allowLinkLocal ? null : `${ip} is a link-local address`;
    case 'private':
      return policy.allowPrivate ? null : `${ip} is a private network address`;
    case 'unspecified':
      return `${ip} is the unspecified address`;
    case 'multicast':
      return `${ip} is a multicast address`;
    case 'reserved':
      return `${ip} is a reserved address`;
  }
}

export interface CheckedUrl {
  url: URL;
  protocol: 'http:' | 'https:';
  /** Name or IP literal, without IPv6 brackets. */
  host: string;
  port: number;
}

/** Scheme and shape of a URL a device asked for; throws a message for a bad one. */
export function checkUrl(text: string, base?: URL): CheckedUrl {
  let url: URL;
  try {
    url = new URL(text, base);
  } catch {
    throw new UrlProblem(`${JSON.stringify(text.slice(0, 200))} is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UrlProblem(`scheme ${url.protocol} is not allowed: only http and https`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new UrlProblem('credentials in the URL are not supported: send an Authorization header');
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (host === '') throw new UrlProblem('the URL has no host');
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  if (port === 0) throw new UrlProblem('port 0 is not allowed');
  return { url, protocol: url.protocol, host, port };
}

export class UrlProblem extends Error {}

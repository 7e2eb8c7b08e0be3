/**
 * Which of the hub's addresses a querying device can reach: the one on the interface the query
 * came in on. Node's dgram cannot tell a datagram's destination address (no IP_PKTINFO), so the
 * sender is matched against each interface's subnet; a device that reaches the hub through a
 * router (another subnet) gets the first LAN address. Pure: the interface table is an argument
 * (cachedInterfaces() is how the DNS responder reads it without a syscall walk per query).
 */
import type { NetworkInterfaceInfo } from 'node:os';
import { isIPv4 } from 'node:net';
import { lanAddresses, type InterfaceReader } from '../hub-urls';

type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}

function sameSubnet(a: string, b: string, netmask: string): boolean {
  const mask = ipv4ToInt(netmask);
  return (ipv4ToInt(a) & mask) >>> 0 === (ipv4ToInt(b) & mask) >>> 0;
}

/**
 * `read`, but at most one real read per `ttlMs` (DNS answers need the table per query; a burst of
 * queries shares one read, and a new address shows within `ttlMs`).
 */
export function cachedInterfaces(
  read: InterfaceReader,
  ttlMs: number,
  now: () => number = Date.now,
): InterfaceReader {
  let table: Interfaces | null = null;
  let readAt = 0;
  return () => {
    const t = now();
    if (table === null || t - readAt >= ttlMs || t < readAt) {
      table = read();
      readAt = t;
    }
    return table;
  };
}

/** The address to answer `sender` with; null when the hub has no address at all to offer. */
export function localAddressFor(sender: string, interfaces: Interfaces): string | null {
  // `::ffff:192.168.1.5` is how a dual-stack socket would show an IPv4 sender.
  const ip = sender.startsWith('::ffff:') ? sender.slice(7) : sender;
  if (!isIPv4(ip)) return lanAddresses(() => interfaces)[0] ?? null;
  if (ip.startsWith('127.')) return '127.0.0.1';
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) {
      if (a.family === 'IPv4' && sameSubnet(ip, a.address, a.netmask)) return a.address;
    }
  }
  return lanAddresses(() => interfaces)[0] ?? null;
}

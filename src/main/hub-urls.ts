/**
 * The addresses a person or a device should use to reach the hub. A hub bound to all interfaces
 * is reached locally on loopback, and by devices on the machine's first LAN IPv4 address.
 */
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

/** Reads the machine's interfaces; injectable so a test can simulate an address change. */
export type InterfaceReader = () => NodeJS.Dict<NetworkInterfaceInfo[]>;

export interface HubUrls {
  /** Base URL for REST clients on this machine. */
  http: string;
  /** The dashboard. */
  dashboard: string;
  /** What firmware puts in `mdash.url` / `dash.server` (PROTOCOL.md 1). */
  device: string;
  /** The management notification stream. */
  notify: string;
  /** The TLS listener, when there is one. */
  https?: string;
  deviceTls?: string;
  /** The local CA that signed the TLS certificate (give it to firmware that takes a CA file). */
  caPath?: string;
}

/** Every non-internal IPv4 address, in interface order (what devices on the LAN can reach). */
export function lanAddresses(read: InterfaceReader = networkInterfaces): string[] {
  const out: string[] = [];
  for (const list of Object.values(read())) {
    for (const a of list ?? []) {
      if (a.family === 'IPv4' && !a.internal && !out.includes(a.address)) out.push(a.address);
    }
  }
  return out;
}

export function lanAddress(read: InterfaceReader = networkInterfaces): string | null {
  return lanAddresses(read)[0] ?? null;
}

export function hubUrls(
  bindHost: string,
  port: number,
  publicHost?: string,
  tls?: { port: number; caPath?: string },
  read: InterfaceReader = networkInterfaces,
): HubUrls {
  const wildcard = bindHost === '0.0.0.0' || bindHost === '::';
  const local = wildcard ? '127.0.0.1' : bindHost;
  const deviceHost = publicHost ?? (wildcard ? (lanAddress(read) ?? local) : bindHost);
  const fmt = (h: string): string => (h.includes(':') ? `[${h}]` : h);
  const http = `http://${fmt(local)}:${port}`;
  return {
    http,
    dashboard: `${http}/`,
    device: `ws://${fmt(deviceHost)}:${port}/api/v2/rpc`,
    notify: `ws://${fmt(local)}:${port}/api/v2/notify`,
    ...(tls && {
      https: `https://${fmt(local)}:${tls.port}`,
      deviceTls: `wss://${fmt(deviceHost)}:${tls.port}/api/v2/rpc`,
      ...(tls.caPath !== undefined && { caPath: tls.caPath }),
    }),
  };
}

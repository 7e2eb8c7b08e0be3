/**
 * The addresses a person or a device should use to reach the hub. A hub bound to all interfaces
 * is reached locally on loopback, and by devices on the machine's first LAN IPv4 address.
 */
import { networkInterfaces } from 'node:os';

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

export function lanAddress(): string | null {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === 'IPv4' && !a.internal) return a.address;
    }
  }
  return null;
}

export function hubUrls(
  bindHost: string,
  port: number,
  publicHost?: string,
  tls?: { port: number; caPath?: string },
): HubUrls {
  const wildcard = bindHost === '0.0.0.0' || bindHost === '::';
  const local = wildcard ? '127.0.0.1' : bindHost;
  const deviceHost = publicHost ?? (wildcard ? (lanAddress() ?? local) : bindHost);
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

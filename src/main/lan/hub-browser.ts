/**
 * Finds Fleetbench hubs on the LAN (issue 12 "Discovery"): the `_fleetbench._tcp` services
 * advertised by mdns-advertiser.ts, browsed with bonjour-service's DNS-SD browser. The hub runs
 * one on its advertiser's socket (GET /api/v2/hubs); `fleetbench hubs` opens its own socket for a
 * few seconds (browseHubs). bonjour-service and multicast-dns are loaded when browsing starts,
 * never by a hub with mDNS off (mdns-advertiser.ts says why).
 */
import type { Browser, Service } from 'bonjour-service';
import type { SeenHub } from '../../shared/lan';
import type { MdnsSocket } from './mdns-advertiser';

/** A resolved service as a SeenHub; null when its TXT lacks what a Fleetbench hub always sends. */
export function toSeenHub(s: Service, selfId: string | null, lastSeenMs: number): SeenHub | null {
  const txt = (s.txt ?? {}) as Record<string, unknown>;
  const text = (k: string): string | undefined =>
    typeof txt[k] === 'string' ? (txt[k] as string) : undefined;
  const deviceUrl = text('device_url');
  const id = text('id');
  if (deviceUrl === undefined || id === undefined) return null;
  const tls = text('device_url_tls');
  return {
    name: s.name,
    host: s.host,
    addresses: [...new Set(s.addresses ?? [])],
    device_url: deviceUrl,
    dashboard_url: text('dashboard_url') ?? '',
    version: text('version') ?? '',
    id,
    ...(tls !== undefined && { device_url_tls: tls }),
    self: selfId !== null && id === selfId,
    last_seen: Math.floor(lastSeenMs / 1000),
  };
}

export class HubBrowser {
  private readonly browser: Browser;
  /** Last time each service (by fqdn) was in a response: bonjour-service keeps only the first. */
  private readonly lastSeen = new Map<string, number>();
  private readonly onResponse = (p: {
    answers: { type: string; name: string; ttl?: number }[];
    additionals: { type: string; name: string; ttl?: number }[];
  }): void => {
    const now = Date.now();
    for (const r of [...p.answers, ...p.additionals]) {
      if (r.type === 'SRV' && r.ttl !== 0) this.lastSeen.set(r.name.toLowerCase(), now);
    }
  };

  private constructor(
    private readonly mdns: MdnsSocket,
    private readonly selfId: string | null,
    BrowserClass: typeof Browser,
  ) {
    mdns.on('response', this.onResponse);
    // Starts at once: listens, and asks for `_fleetbench._tcp.local` PTRs.
    this.browser = new BrowserClass(mdns, { type: 'fleetbench', protocol: 'tcp' });
  }

  /** Loads bonjour-service and starts browsing on `mdns`. */
  static async open(mdns: MdnsSocket, selfId: string | null): Promise<HubBrowser> {
    const { Browser: BrowserClass } = await import('bonjour-service');
    return new HubBrowser(mdns, selfId, BrowserClass);
  }

  /** Asks the LAN again (answers arrive over the next second or so). */
  query(): void {
    try {
      this.browser.update();
    } catch {
      // A socket that closed under us (its port taken): nothing to ask with, the list stays.
    }
  }

  /** Hubs seen, or only those that answered at or after `sinceMs` (gone ones stop answering). */
  list(sinceMs = 0): SeenHub[] {
    const hubs: SeenHub[] = [];
    for (const s of this.browser.services) {
      const seen = this.lastSeen.get(s.fqdn.toLowerCase()) ?? s.lastSeen ?? 0;
      if (seen < sinceMs) continue;
      const hub = toSeenHub(s, this.selfId, seen);
      if (hub) hubs.push(hub);
    }
    // This hub first, then by name: a stable order for the CLI and the dashboard.
    return hubs.sort((a, b) => Number(b.self) - Number(a.self) || a.name.localeCompare(b.name));
  }

  stop(): void {
    this.browser.stop();
    this.mdns.off('response', this.onResponse);
  }
}

export interface BrowseOptions {
  timeoutMs: number;
  /** UDP port (5353 unless isolating a test). */
  port?: number;
  interface?: string | null;
  /** The id of "our" hub, marked `self`. */
  selfId?: string | null;
}

/** Browses on a socket of its own for `timeoutMs`, asking three times; then lists what answered. */
export async function browseHubs(opts: BrowseOptions): Promise<SeenHub[]> {
  const { default: makeMdns } = await import('multicast-dns');
  const mdns = makeMdns({
    port: opts.port ?? 5353,
    bind: '0.0.0.0',
    ...(opts.interface != null && { interface: opts.interface }),
  });
  const failed = new Promise<never>((_, reject) => mdns.once('error', reject));
  failed.catch(() => undefined);
  await Promise.race([new Promise<void>((resolve) => mdns.once('ready', resolve)), failed]);
  const browser = await HubBrowser.open(mdns, opts.selfId ?? null);
  // Multicast is lossy: ask again a third and two thirds of the way.
  const again = [1, 2].map((i) =>
    setTimeout(() => browser.query(), Math.floor((opts.timeoutMs * i) / 3)),
  );
  try {
    await Promise.race([new Promise((resolve) => setTimeout(resolve, opts.timeoutMs)), failed]);
    return browser.list();
  } finally {
    again.forEach(clearTimeout);
    browser.stop();
    await new Promise<void>((resolve) => mdns.destroy(() => resolve()));
  }
}

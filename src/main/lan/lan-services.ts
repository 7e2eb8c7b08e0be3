/**
 * The LAN services (issue 12): the SNTP server and the DNS responder, started and stopped
 * together, their status as `GET /api/v2/lan` shows it, and new settings applied at once.
 *
 * Settings, weakest first: config.ts defaults, `<dataDir>/settings.json` (the dashboard, `PUT
 * /api/v2/lan`), then the createHub options (`serve` flags) for this run. A `PUT` applies on top
 * of what runs and is saved, so the flags win again at the next start.
 *
 * A responder that cannot bind (a port below 1024 without the capability, a port in use) never
 * stops the hub: its status says `listening: false` with the problem and the exact fix, and the
 * hub's log says it too.
 */
import { networkInterfaces } from 'node:os';
import type { HubConfig, LanSettings } from '../config';
import type { LanStatus, ResponderStatus, ServiceProblem } from '../../shared/lan';
import type { LanSettingsPatchBody } from '../../shared/lan-schemas';
import { readSettings, saveLanSettings } from '../store/settings-file';
import { bindProblem, type LanService } from './bind-problem';
import { dnsHandler, parseUpstream, type DnsCounters } from './dns-server';
import { lanAddresses, type InterfaceReader } from '../hub-urls';
import { cachedInterfaces } from './local-address';
import { sntpHandler, type SntpCounters } from './sntp-server';
import { bindResponder, type BoundResponder, type DatagramHandler } from './udp-responder';

export interface LanLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface LanServicesOptions {
  config: Pick<HubConfig, 'host' | 'dataDir' | 'lan' | 'lanOverrides'>;
  log: LanLog;
  /** The binary a `setcap` fix names (node for `serve`, the app's own binary in the desktop app). */
  execPath?: string;
  /** The interface list (os.networkInterfaces); the hub passes the one a test injected. */
  readInterfaces?: InterfaceReader;
}

interface Running {
  responder: BoundResponder | null;
  problem: ServiceProblem | null;
}

/** settings.json's snake_case LAN fields as config.ts settings. */
export function settingsFromPatch(p: LanSettingsPatchBody): Partial<LanSettings> {
  return {
    ...(p.enabled !== undefined && { enabled: p.enabled }),
    ...(p.sntp_port !== undefined && { sntpPort: p.sntp_port }),
    ...(p.dns_port !== undefined && { dnsPort: p.dns_port }),
    ...(p.names !== undefined && { dnsNames: p.names }),
    ...(p.upstream !== undefined && { dnsUpstream: p.upstream }),
    ...(p.lan_address !== undefined && { lanAddress: p.lan_address }),
  };
}

export class LanServices {
  private settings: LanSettings;
  private sntp: Running = { responder: null, problem: null };
  private dns: Running = { responder: null, problem: null };
  private sntpCounters: SntpCounters = { answered: 0, dropped: {} };
  private dnsCounters: DnsCounters = {
    answered: 0,
    refused: 0,
    forwarded: 0,
    failed: 0,
    dropped: {},
  };
  /** Starts, stops and applies run one after another (a PUT during a start waits for it). */
  private queue: Promise<unknown> = Promise.resolve();
  /** Why settings.json was not used, if it was not. */
  settingsWarning: string | null = null;

  private readonly readInterfaces: InterfaceReader;
  /** What the DNS responder reads: one table for a burst of queries. */
  private readonly interfaces: InterfaceReader;

  constructor(private readonly o: LanServicesOptions) {
    this.settings = { ...o.config.lan };
    this.readInterfaces = o.readInterfaces ?? networkInterfaces;
    this.interfaces = cachedInterfaces(this.readInterfaces, o.config.lan.dnsInterfacesCacheMs);
  }

  /** Reads settings.json and starts the responders when enabled. Never rejects on a bind failure. */
  start(): Promise<LanStatus> {
    return this.serialize(async () => {
      const saved = readSettings(this.o.config.dataDir);
      this.settingsWarning = saved.warning;
      if (saved.warning !== null) this.o.log.warn({ file: 'settings.json' }, saved.warning);
      this.settings = {
        ...this.settings,
        ...settingsFromPatch(saved.settings.lan ?? {}),
        ...this.o.config.lanOverrides,
      };
      await this.startResponders();
      return this.status();
    });
  }

  stop(): Promise<void> {
    return this.serialize(() => this.stopResponders());
  }

  /** Saves `patch` in settings.json, then restarts the responders with it (PUT /api/v2/lan). */
  apply(patch: LanSettingsPatchBody): Promise<LanStatus> {
    return this.serialize(async () => {
      saveLanSettings(this.o.config.dataDir, patch);
      this.settings = { ...this.settings, ...settingsFromPatch(patch) };
      await this.stopResponders();
      await this.startResponders();
      return this.status();
    });
  }

  status(): LanStatus {
    const s = this.settings;
    return {
      enabled: s.enabled,
      lan_address: s.lanAddress,
      addresses: lanAddresses(this.readInterfaces),
      sntp: {
        ...this.responderStatus(this.sntp, s.sntpPort, this.sntpCounters.answered),
        dropped: { ...this.sntpCounters.dropped },
      },
      dns: {
        ...this.responderStatus(this.dns, s.dnsPort, this.dnsCounters.answered),
        names: [...s.dnsNames],
        upstream: s.dnsUpstream,
        refused: this.dnsCounters.refused,
        forwarded: this.dnsCounters.forwarded,
        failed: this.dnsCounters.failed,
        dropped: { ...this.dnsCounters.dropped },
      },
    };
  }

  private responderStatus(r: Running, port: number, answered: number): ResponderStatus {
    return {
      port: r.responder?.port ?? port,
      listening: r.responder !== null,
      ...(r.problem !== null && { problem: r.problem }),
      answered,
    };
  }

  private serialize<T>(step: () => Promise<T>): Promise<T> {
    const next = this.queue.then(step, step);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async startResponders(): Promise<void> {
    if (!this.settings.enabled) return;
    const lan = this.o.config.lan;
    const s = this.settings;
    this.sntpCounters = { answered: 0, dropped: {} };
    this.dnsCounters = { answered: 0, refused: 0, forwarded: 0, failed: 0, dropped: {} };
    this.sntp = await this.bind(
      'sntp',
      s.sntpPort,
      sntpHandler(this.sntpCounters, lan.sntpMaxPacketBytes),
    );
    this.dns = await this.bind(
      'dns',
      s.dnsPort,
      dnsHandler(this.dnsCounters, {
        names: s.dnsNames,
        lanAddress: s.lanAddress,
        interfaces: this.interfaces,
        upstream: parseUpstream(s.dnsUpstream),
        ttlS: lan.dnsTtlS,
        maxQueryBytes: lan.dnsMaxQueryBytes,
        maxReplyBytes: lan.dnsMaxReplyBytes,
        upstreamTimeoutMs: lan.dnsUpstreamTimeoutMs,
        maxForwards: lan.dnsMaxForwards,
      }),
    );
  }

  private async bind(
    service: LanService,
    port: number,
    handler: DatagramHandler,
  ): Promise<Running> {
    const host = this.o.config.host;
    const bound = await bindResponder(host, port, handler, (err) =>
      this.o.log.warn({ err, service }, `${service} responder: a datagram could not be handled`),
    );
    if (bound.ok) {
      this.o.log.info({ service, port: bound.responder.port }, `${service} responder listening`);
      return { responder: bound.responder, problem: null };
    }
    const problem = bindProblem(
      service,
      host,
      port,
      bound.code,
      this.o.execPath ?? process.execPath,
    );
    this.o.log.warn({ service, port, code: problem.code, fix: problem.fix }, problem.message);
    return { responder: null, problem };
  }

  private async stopResponders(): Promise<void> {
    const sntp = this.sntp.responder;
    const dns = this.dns.responder;
    this.sntp = { responder: null, problem: null };
    this.dns = { responder: null, problem: null };
    await Promise.all([sntp?.close(), dns?.close()]);
  }
}

/** What `serve` prints about the LAN services: where they listen, or the problem and its fix. */
export function lanStatusLines(status: LanStatus): string[] {
  if (!status.enabled) return [];
  const lines: string[] = [];
  for (const [name, r] of [
    ['SNTP', status.sntp],
    ['DNS', status.dns],
  ] as const) {
    if (r.listening) {
      lines.push(`  ${name.padEnd(11)} udp port ${r.port}`);
    } else if (r.problem) {
      lines.push(`  ${name.padEnd(11)} NOT LISTENING: ${r.problem.message}`);
      for (const l of r.problem.fix.split('\n')) lines.push(`      ${l}`);
    }
  }
  if (status.dns.listening) {
    lines.push(
      `  DNS names:  ${status.dns.names.join(', ')} -> ${status.lan_address ?? 'the address of the interface each query comes in on'}`,
    );
  }
  return lines;
}

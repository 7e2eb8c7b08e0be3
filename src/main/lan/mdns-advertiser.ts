/**
 * Advertises the hub on the LAN by mDNS / DNS-SD (issue 12 "Discovery"): `fleetbench.local` with
 * A records for its LAN addresses, and `_fleetbench._tcp` + `_http._tcp` services whose TXT gives
 * the device and dashboard URLs. Built on multicast-dns (the socket and packet codec under
 * bonjour-service) rather than bonjour-service's publisher, because that one cannot: probe the
 * host name (it only probes the service name), announce addresses other than all of
 * os.networkInterfaces(), re-announce when they change, or answer a legacy unicast query (`dig -p
 * 5353 @host fleetbench.local`, RFC 6762 6.7). The records themselves are a pure core
 * (mdns-records.ts).
 *
 * Nothing here may stop the hub: a port 5353 that cannot be bound, or multicast that cannot be
 * joined, is logged once and reported in status() (and so in GET /api/v2/hubs and the doctor).
 *
 * multicast-dns is loaded by start(), not with this module: a hub with mDNS off never loads it
 * (issue 11, cold start and idle RSS; the way tls-material.ts loads selfsigned).
 */
import type makeMdns from 'multicast-dns';
import type { RemoteInfo } from 'node:dgram';
import type { Answer, Question } from 'dns-packet';
import type { MdnsStatus } from '../../shared/lan';
import {
  answerQuestions,
  goodbye,
  recordKey,
  ANY,
  type HubRecord,
  hostCandidates,
  hubRecords,
  instanceCandidates,
  namesTaken,
  serviceFqdn,
  FLEETBENCH_SERVICE,
  type AdvertisedHub,
} from './mdns-records';

export type MdnsSocket = ReturnType<typeof makeMdns>;

/** What the hub advertises right now (read again on every refresh). */
export interface AdvertisedService {
  addresses: string[];
  port: number;
  txt: Record<string, string>;
}

export interface MdnsAdvertiserOptions {
  /** First label of the wanted host name (config `discovery.mdnsHostName`). */
  hostName: string;
  /** This machine's host name, for the fallback names. */
  machineHostname: string;
  /** The hub id (hub-id.ts). */
  id: string;
  /** UDP port (5353; tests use another to stay isolated). */
  port: number;
  /** IPv4 address of the interface to use, or null for all. */
  interface: string | null;
  /** Interval between the three probes (RFC 6762 8.1: 250 ms). */
  probeMs: number;
  service: () => AdvertisedService;
  warn: (msg: string, err?: unknown) => void;
}

const PROBES = 3;
/** RFC 6762 8.3: announce at least twice, one second apart. */
const ANNOUNCE_GAP_MS = 1000;

export class MdnsAdvertiser {
  private socket: MdnsSocket | null = null;
  private state: 'idle' | 'probing' | 'advertising' | 'failed' | 'stopped' = 'idle';
  private problem: string | undefined;
  private host: string | undefined;
  private instance: string | undefined;
  private records: HubRecord[] = [];
  private addresses: string[] = [];
  private timers = new Set<NodeJS.Timeout>();
  private warned = new Set<string>();
  private settled: Promise<void>;
  private settle: () => void = () => undefined;

  constructor(private readonly opts: MdnsAdvertiserOptions) {
    this.settled = new Promise((resolve) => (this.settle = resolve));
  }

  /** The socket, shared with the hub's browser (hub-browser.ts); null when it could not open. */
  get mdns(): MdnsSocket | null {
    return this.socket;
  }

  /** Every host name this hub may end up with (the TLS certificate covers them all). */
  static hostNames(opts: Pick<MdnsAdvertiserOptions, 'hostName' | 'machineHostname' | 'id'>) {
    return hostCandidates(opts.hostName, opts.machineHostname, opts.id);
  }

  /**
   * Loads multicast-dns, opens the socket and starts probing. Resolves once the socket is open
   * (or failed), not when probing ends (~1 s later: whenSettled()); never rejects.
   */
  async start(): Promise<void> {
    if (this.state !== 'idle') return;
    this.state = 'probing';
    let socket: MdnsSocket;
    try {
      const { default: open } = await import('multicast-dns');
      // Stopped while the module loaded: nothing to open.
      if (this.state !== 'probing') return;
      socket = open({
        port: this.opts.port,
        // Bind to all addresses even with one interface: on Linux a socket bound to an interface
        // address never receives packets sent to the multicast group.
        bind: '0.0.0.0',
        ...(this.opts.interface !== null && { interface: this.opts.interface }),
      });
    } catch (err) {
      this.fail(`cannot open the mDNS socket: ${(err as Error).message}`, err);
      return;
    }
    this.socket = socket;
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.fail(
        `cannot bind UDP ${this.opts.port} for mDNS (${err.code ?? err.message}): another program holds it exclusively`,
        err,
      );
    });
    socket.on('warning', (err: NodeJS.ErrnoException) => {
      // addMembership/setMulticastInterface failing (no multicast on an interface) repeats every
      // 5 s in multicast-dns: said once.
      const msg = `mDNS: ${err.syscall ?? 'socket'} failed (${err.code ?? err.message})`;
      if (!this.warned.has(msg)) {
        this.warned.add(msg);
        this.opts.warn(msg, err);
      }
      if (this.state === 'probing' && err.syscall === 'addMembership') this.problem = msg;
    });
    socket.on('query', (q, rinfo) => this.onQuery(q.questions, q.id, rinfo));
    socket.on('ready', () => void this.probe(socket));
  }

  /** Resolves once the advertiser is advertising, failed or stopped (tests and the CLI wait). */
  whenSettled(): Promise<MdnsStatus> {
    return this.settled.then(() => this.status());
  }

  status(): MdnsStatus {
    return {
      enabled: true,
      advertising: this.state === 'advertising',
      ...(this.host !== undefined && { host: this.host }),
      ...(this.instance !== undefined && { instance: this.instance }),
      addresses: [...this.addresses],
      ...(this.problem !== undefined && { problem: this.problem }),
    };
  }

  /**
   * Reads the service again (addresses, URLs in the TXT); when a record changed, says goodbye to
   * the records that are gone and announces the new set, so caches on the LAN follow at once.
   */
  refresh(): void {
    if (this.state !== 'advertising' || !this.socket) return;
    const before = this.records;
    this.build();
    const now = new Set(this.records.map(recordKey));
    if (before.length === this.records.length && before.every((r) => now.has(recordKey(r)))) {
      return;
    }
    // A PTR shared by all services stays; only records whose data changed are retired.
    const gone = before.filter((r) => !now.has(recordKey(r)) && r.type !== 'PTR');
    if (gone.length > 0) this.socket.respond({ answers: goodbye(gone) });
    this.announce();
  }

  async stop(): Promise<void> {
    const socket = this.socket;
    const wasAdvertising = this.state === 'advertising';
    this.state = 'stopped';
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.socket = null;
    this.settle();
    if (!socket) return;
    if (wasAdvertising) {
      // Goodbye first (RFC 6762 10.1): browsers drop the hub now, not when the TTL runs out.
      await new Promise<void>((resolve) =>
        socket.respond({ answers: goodbye(this.records) }, () => resolve()),
      );
    }
    await new Promise<void>((resolve) => socket.destroy(() => resolve()));
  }

  private fail(problem: string, err: unknown): void {
    if (this.state === 'stopped') return;
    this.state = 'failed';
    this.problem = problem;
    this.opts.warn(`${problem}; the hub keeps running without mDNS`, err);
    const socket = this.socket;
    this.socket = null;
    socket?.destroy();
    this.settle();
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  /**
   * RFC 6762 8.1: ask three times, `probeMs` apart, whether anyone answers for the names we want;
   * take the first host name and instance name nobody answered for.
   */
  private async probe(socket: MdnsSocket): Promise<void> {
    const hosts = hostCandidates(this.opts.hostName, this.opts.machineHostname, this.opts.id);
    const instances = instanceCandidates(this.opts.machineHostname, this.opts.id).map((i) =>
      serviceFqdn(i, FLEETBENCH_SERVICE),
    );
    const wanted = [...hosts, ...instances];
    const seen: Answer[] = [];
    const onResponse = (p: { answers: Answer[]; additionals: Answer[] }): void => {
      seen.push(...p.answers, ...p.additionals);
    };
    socket.on('response', onResponse);
    const questions: Question[] = wanted.map((name) => ({ name, type: ANY }));
    for (let i = 0; i < PROBES; i++) {
      if (this.state !== 'probing') break;
      socket.query({ questions });
      await new Promise<void>((resolve) => this.later(this.opts.probeMs, resolve));
    }
    socket.off('response', onResponse);
    if (this.state !== 'probing') return;
    const taken = namesTaken(seen, wanted);
    const host = hosts.find((h) => !taken.has(h));
    const instance = instances.find((i) => !taken.has(i));
    if (host === undefined || instance === undefined) {
      this.fail(`every mDNS name this hub may use is taken: ${wanted.join(', ')}`, undefined);
      return;
    }
    if (host !== hosts[0]) {
      this.opts.warn(`mDNS: ${hosts[0] ?? ''} is answered by another host; advertising ${host}`);
    }
    this.host = host;
    this.instance = instance.slice(0, -(FLEETBENCH_SERVICE.length + 1));
    this.build();
    this.state = 'advertising';
    if (this.problem?.startsWith('mDNS:')) this.problem = undefined;
    this.announce();
    this.settle();
  }

  private build(): void {
    const s = this.opts.service();
    this.addresses = s.addresses;
    const hub: AdvertisedHub = {
      host: this.host ?? '',
      instance: this.instance ?? '',
      addresses: s.addresses,
      port: s.port,
      txt: s.txt,
    };
    this.records = hubRecords(hub);
  }

  private announce(): void {
    const send = (): void => {
      if (this.state === 'advertising') this.socket?.respond({ answers: this.records });
    };
    send();
    this.later(ANNOUNCE_GAP_MS, send);
  }

  private onQuery(questions: Question[], id: number | undefined, rinfo: RemoteInfo): void {
    if (this.state !== 'advertising' || !this.socket) return;
    // From another port than mDNS's: a legacy resolver (dig, a DNS stub) wants a unicast reply
    // with its id and question echoed (RFC 6762 6.7).
    const legacy = rinfo.port !== this.opts.port;
    const found = answerQuestions(this.records, questions, { legacy });
    if (!found) return;
    if (legacy) {
      this.socket.respond(
        { id: id ?? 0, questions, ...found },
        { address: rinfo.address, port: rinfo.port },
      );
    } else {
      this.socket.respond(found);
    }
  }
}

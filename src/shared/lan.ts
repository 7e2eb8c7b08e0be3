/**
 * Wire shapes of the offline-LAN features (issue 12): LAN services (SNTP, DNS), the doctor's
 * checks, hubs seen by mDNS, backup and restore. Shared by the hub, the CLI and the dashboard; no
 * Node, DOM or Electron imports here. Add fields freely, never rename these.
 */

/** Why a responder is not answering, with the exact thing a user can do about it. */
export interface ServiceProblem {
  /** A code of the error catalog (src/shared/errors.ts). */
  code: number;
  message: string;
  /** One or more lines to act on: the capability to grant, or the high ports and redirect rule. */
  fix: string;
}

export interface ResponderStatus {
  /** The UDP port: the one bound while listening, else the one asked for (123 SNTP, 53 DNS). */
  port: number;
  /** True while the socket is bound and answering. */
  listening: boolean;
  /** Set when binding failed (for example EACCES below 1024): the hub keeps running. */
  problem?: ServiceProblem;
  /** Queries answered since the responder started. */
  answered: number;
  /** Datagrams dropped unanswered since it started, by reason (`short`, `malformed`, ...). */
  dropped?: Record<string, number>;
}

/** GET /api/v2/lan and the answer of PUT /api/v2/lan. */
export interface LanStatus {
  /** The saved switch (dashboard settings) or `serve --lan-services`. */
  enabled: boolean;
  /**
   * The address answered for the configured names instead of the address of the interface the
   * query came in on (`--lan-address`); null: that interface's address.
   */
  lan_address: string | null;
  /** The hub's IPv4 LAN addresses right now (non-internal interfaces). */
  addresses: string[];
  sntp: ResponderStatus;
  dns: ResponderStatus & {
    /** Names answered with the hub's address; a leading `*.` also matches every subdomain. */
    names: string[];
    /** `host[:port]` of an upstream resolver, or null: everything else is refused. */
    upstream: string | null;
    /** Queries refused (names not answered, no upstream). */
    refused?: number;
    /** Queries relayed to the upstream and answered by it. */
    forwarded?: number;
    /** Forwarded queries that got SERVFAIL (the upstream did not answer in time). */
    failed?: number;
  };
}

/** PUT /api/v2/lan: any subset; saved in `<dataDir>/settings.json` and applied at once. */
export interface LanSettingsPatch {
  enabled?: boolean;
  sntp_port?: number;
  dns_port?: number;
  names?: string[];
  upstream?: string | null;
  lan_address?: string | null;
}

export type CheckState = 'ok' | 'warn' | 'fail' | 'skip';

/** One line of `fleetbench doctor` and of the dashboard's Network page. */
export interface DoctorCheck {
  /** Stable id, e.g. `lan-address`, `http-port`, `sntp`, `dns`, `tls-cert`, `clock`, `mdns`. */
  id: string;
  title: string;
  state: CheckState;
  /** What was found, in one line. */
  detail: string;
  /** What to do, when state is warn or fail. */
  fix?: string;
}

/** GET /api/v2/doctor. */
export interface DoctorReport {
  checked_at: number;
  checks: DoctorCheck[];
}

/** GET /api/v2/hubs: hubs advertised on the LAN by mDNS / DNS-SD (this one included). */
export interface SeenHub {
  /** DNS-SD instance name. */
  name: string;
  /** mDNS host name, e.g. `fleetbench.local`. */
  host: string;
  addresses: string[];
  /** ws:// URL devices connect to (PROTOCOL.md 1). */
  device_url: string;
  dashboard_url: string;
  version: string;
  /** `id` TXT value: stable per data dir. */
  id: string;
  /** wss:// device URL when the hub has a TLS listener. */
  device_url_tls?: string;
  /** True for the hub answering this request (or, in `fleetbench hubs`, the hub of --data-dir). */
  self: boolean;
  /** Unix seconds of the last announcement seen. */
  last_seen: number;
}

/** The mDNS / DNS-SD advertiser (issue 12 "Discovery"); in GET /api/v2/hubs as `mdns`. */
export interface MdnsStatus {
  /** Advertising was asked for (`serve` default; `--no-mdns` turns it off). */
  enabled: boolean;
  /** True once the host name is claimed and the records announced. */
  advertising: boolean;
  /** The claimed host name, e.g. `fleetbench.local` (or the fallback when that was taken). */
  host?: string;
  /** DNS-SD instance name of the `_fleetbench._tcp` and `_http._tcp` services. */
  instance?: string;
  /** Addresses in the A records. */
  addresses: string[];
  /** Why it is not advertising (port 5353 not bindable, no multicast): the hub keeps running. */
  problem?: string;
}

/** GET /api/v2/hubs. */
export interface HubsList {
  /** This hub's stable id (the `id` TXT value). */
  id: string;
  mdns: MdnsStatus;
  hubs: SeenHub[];
}

/** The manifest at the root of a backup archive. */
export interface BackupManifest {
  format: 'fleetbench-backup';
  version: 1;
  created: number;
  app_version: string;
  /** Every file in the archive except the manifest: path inside the archive, bytes, sha256 hex. */
  files: { path: string; size: number; sha256: string; secret?: boolean }[];
  counts: { devices: number; customers: number; firmware: number; apps: number };
  /** Rows of the account database's `data` table. */
  data_rows?: number;
}

/** The answer of `POST /api/v2/restore`. */
export interface RestoreResult {
  /** True: the hub restarted on the restored data dir; false: it applies it on its next start. */
  applied: boolean;
  /** Where the replaced data dir was kept (`<dir>.before-restore-<time>`), null if none. */
  previous: string | null;
  manifest: BackupManifest;
  message: string;
}

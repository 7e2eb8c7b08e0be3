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
  /** The UDP port asked for (123 for SNTP, 53 for DNS by default). */
  port: number;
  /** True while the socket is bound and answering. */
  listening: boolean;
  /** Set when binding failed (for example EACCES below 1024): the hub keeps running. */
  problem?: ServiceProblem;
  /** Queries answered since the responder started. */
  answered: number;
}

/** GET /api/v2/lan and the answer of PUT /api/v2/lan. */
export interface LanStatus {
  /** The saved switch (dashboard settings) or `serve --lan-services`. */
  enabled: boolean;
  /** The address answered for the configured names when the query's interface is not known. */
  lan_address: string | null;
  /** The hub's IPv4 LAN addresses right now (non-internal interfaces). */
  addresses: string[];
  sntp: ResponderStatus;
  dns: ResponderStatus & {
    /** Names answered with the hub's address; a leading `*.` also matches every subdomain. */
    names: string[];
    /** `host[:port]` of an upstream resolver, or null: everything else is refused. */
    upstream: string | null;
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
  /** True for the hub answering this request. */
  self: boolean;
  /** Unix seconds of the last announcement seen. */
  last_seen: number;
}

/** The manifest at the root of a backup archive. */
export interface BackupManifest {
  format: 'fleetbench-backup';
  version: 1;
  created: number;
  app_version: string;
  /** Every file in the archive except the manifest: path inside the archive, bytes, sha256 hex. */
  files: { path: string; size: number; sha256: string }[];
  counts: { devices: number; customers: number; firmware: number; apps: number };
}

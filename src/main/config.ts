/**
 * Every limit and default of the hub in one place (DESIGN.md example 5). Each value names the
 * PROTOCOL.md section it comes from; tests exercise each limit at its edge.
 */
export interface HubLimits {
  /** Largest device frame or REST JSON message accepted (PROTOCOL.md intro: message 8 KB). */
  maxMessageBytes: number;
  /**
   * Largest reply to a call the hub itself made (an FS.Get chunk, say; PROTOCOL.md 2: up to 64 KB,
   * configurable). Only a reply whose id is one of the session's pending calls may exceed
   * maxMessageBytes; any other frame over that is dropped and counted.
   */
  maxReplyBytes: number;
  /**
   * Frames between maxMessageBytes and this are read, counted and dropped while the session stays
   * up (PROTOCOL.md 2); a frame beyond this closes the socket (code 1009) to bound memory.
   */
  maxFrameHardBytes: number;
  /** Largest serialized shadow document (PROTOCOL.md 3). */
  maxShadowBytes: number;
  /** Largest customer metadata (`cconfig`) (PROTOCOL.md intro). */
  maxCustomerMetaBytes: number;
  /** Largest REST request body of any kind except uploads. */
  maxBodyBytes: number;
  /** Largest upload (OTA images, PWA zips, flash images). */
  maxUploadBytes: number;
  /**
   * Deepest nesting of arrays and objects in a JSON body. Deeper input is refused with 400 before
   * anything recursive (schema checks, stringify, the shadow merge) can overflow the stack.
   */
  maxJsonDepth: number;
  /** Uploads (flash, bench, symbols) one API key may have in flight at once; more get 429. */
  maxUploadsPerKey: number;
  /**
   * Calls one device may have waiting for replies, whoever starts them (REST bridge, Shadow.Delta,
   * OTA, FS): a call past this is refused at once (REST: 429 too_many_calls), its frame never sent.
   */
  maxPendingCallsPerDevice: number;
  /**
   * Devices whose session steps (PROTOCOL.md 1: mark online, Sys.GetInfo, Shadow.Delta, spool
   * drain) run at once; fewer while logins arrive (until `timings.loginQuietMs` after the last).
   * A device is reachable from its login on, so in a connect storm logins go first (issue 11,
   * gateway/step-queue.ts). A step waiting on a silent device stops counting after
   * `timings.sessionStepSlotMs`, so a fleet that never answers is not queued behind timeouts.
   */
  maxSessionStepsRunning: number;
  /**
   * 4: in 10,000-device storms interleaved with the relay, all sessions opened in a median 4.2 s
   * with 4 against 5.4 s with 16 (2 was no faster): every step is durable writes and a round trip
   * on the CPU the logins need (bench/RESULTS.md, issue 11).
   */
  maxSessionStepsWhileLoggingIn: number;
  /**
   * Listen backlog of the HTTP and TLS listeners (issue 11): connections the kernel holds before
   * the hub accepts them. Node's default 511 overflows in a connect storm of thousands of devices,
   * and every refused handshake is retried by TCP only after 1, 3, 7 s: at 10,000 devices that
   * doubled the storm. The kernel caps it at net.core.somaxconn.
   */
  listenBacklog: number;
  /**
   * Per-device rate limit on frames a device sends (issue 7 item 17: one device must not starve
   * the rest). Token buckets refilled at these rates, holding up to the burst; a frame that finds
   * a bucket empty is dropped and counted (`frames.dropped.rate_limited`), except a reply to a
   * call of the hub's (OTA.Write, FS.Get chunks), which is counted but always delivered. 0 turns
   * a bucket off. The defaults are far above what real firmware sends.
   */
  deviceFramesPerSecond: number;
  deviceFrameBurst: number;
  deviceBytesPerSecond: number;
  deviceByteBurst: number;
}

export interface HubTimings {
  /** Calls we send to a device time out after this (PROTOCOL.md 2: 30 s). */
  rpcTimeoutMs: number;
  /** Server ping interval, on each session's own clock from its connect (PROTOCOL.md 1: 20 s). */
  pingIntervalMs: number;
  /**
   * Missed pongs that drop the peer (PROTOCOL.md 1: 3). A ping is missed when the next one is due
   * and nothing (pong, ping or frame) came since it was sent, so the drop comes exactly
   * maxMissedPongs × pingIntervalMs (60 s) after the first unanswered ping.
   */
  maxMissedPongs: number;
  /** Group commit: longest a write waits for others before its transaction commits. */
  commitWindowMs: number;
  /** Logins count as arriving (session steps yield to them) until this long after the last. */
  loginQuietMs: number;
  /** A session step counts against `limits.maxSessionStepsRunning` for at most this long. */
  sessionStepSlotMs: number;
  /** Largest `?timeout=` a REST RPC call may ask for; above it is a 400. */
  maxRpcTimeoutMs: number;
  /** A request's headers must arrive within this (slow-header clients get 408). */
  headersTimeoutMs: number;
  /** A whole request, body included, must arrive within this (bounds the slowest upload). */
  requestTimeoutMs: number;
  /** A request body that sends nothing for this long is cut off (a stalled upload frees its slot). */
  bodyIdleTimeoutMs: number;
  /**
   * A device kept over its rate limit this long (drops no more than 2 s apart) is disconnected
   * with close code 1008 and a logged reason (`frames.disconnects.rate_limited`).
   */
  rateLimitDisconnectMs: number;
  /**
   * Two devices with one password (issue 7 item 18): a newcomer that would replace a session
   * which is itself a replacement made less than this ago, and still answers a ping, is refused
   * with 429 and Retry-After instead of kicking it out.
   */
  duplicateWindowMs: number;
  /** First Retry-After given to such a newcomer; it doubles with each refusal up to the max. */
  duplicateHoldOffMs: number;
  duplicateHoldOffMaxMs: number;
  /** How long the incumbent has to answer the liveness ping before the newcomer wins anyway. */
  duplicateProbeMs: number;
}

export interface LogRetention {
  /** Stored notifications kept at most (PROTOCOL.md 7: bounded by count). */
  maxEntries: number;
  /** Stored notifications older than this are removed (PROTOCOL.md 7: bounded by age). */
  maxAgeMs: number;
  /** How often retention runs. */
  sweepIntervalMs: number;
}

export interface NotifyLimits {
  /** A subscriber whose socket buffers more than this is dropped (PROTOCOL.md 7). */
  maxBufferedBytes: number;
}

export interface DataLimits {
  /** Per-device rows in the account database's `data` table (PROTOCOL.md 5 quota). */
  maxRowsPerDevice: number;
  /**
   * Outbound HTTP.Request response size cap (PROTOCOL.md 2): a bigger body (announced or read)
   * fails the request with code 5024 instead of being cut, so a device never parses half a JSON.
   */
  maxHttpResponseBytes: number;
  /** Switch for HTTP.Request: false on offline sites; the device then gets code 4037. */
  httpEnabled: boolean;
  /** Whole HTTP.Request (DNS, connect, redirects, body) deadline (PROTOCOL.md 2: 30 s). */
  httpTimeoutMs: number;
  /** Request body (a string, or JSON sent as text) and header values a device may send. */
  maxHttpRequestBodyBytes: number;
  /** Redirects followed, each hop checked like the first URL; 0 returns the 3xx as is. */
  httpMaxRedirects: number;
  /** Per-device token bucket: requests per minute refilled, and the burst it may spend at once. */
  httpRequestsPerMinute: number;
  httpBurst: number;
  /** Outbound requests in flight on the whole hub; more are refused with code 4298. */
  httpMaxInFlight: number;
  /**
   * The result notification (and so the stored log) keeps at most this many characters of the
   * body, with `"truncated":true`; the device's reply always has all of it. Without it every
   * request could put up to maxHttpResponseBytes into the notification log.
   */
  maxHttpNotifyBodyChars: number;
  /**
   * Destinations a device may reach (http-request-guard.ts). Loopback and link-local (cloud
   * metadata 169.254.169.254) are refused by default: they are the hub machine itself and its
   * cloud control plane, never a device's business. Private LAN ranges are allowed by default:
   * a workshop's own services (a local webhook, Home Assistant) are the point of the feature on
   * an offline site; set false to confine devices to the public internet. The hub's own ports
   * are always refused.
   */
  httpAllowLoopback: boolean;
  httpAllowLinkLocal: boolean;
  httpAllowPrivate: boolean;
  /**
   * Size cap of the account database file (`PRAGMA max_page_count` on the hub's connection): a
   * write past it fails with code 5072 and nothing of it is stored. 0 = no cap.
   */
  maxAccountDbBytes: number;
  /** `FS.Get` chunk the spool drain asks for (PROTOCOL.md 2 and 5: at most 4 KB). */
  drainChunkBytes: number;
  /** A spool file larger than this is left on the device, unread (real ones stay near 32 KB). */
  maxSpoolFileBytes: number;
  /**
   * Prepared `data_write` statements kept per query text (LRU). `DEVICE_ID` is substituted, so a
   * fleet needs one per device and query: too small, and every row pays a prepare.
   */
  statementCacheSize: number;
  /** `data` rows older than this are deleted by a periodic sweep; 0 (default) = keep forever. */
  retentionMaxAgeMs: number;
  /** How often the retention sweep runs. */
  retentionSweepIntervalMs: number;
  /** Rows one sweep step deletes, so a big backlog never holds the write lock for long. */
  retentionBatchRows: number;
}

/**
 * The SQL API (`/sql/exec`, `/sql/db`, `/devices/:id/data/:name`; PROTOCOL.md 4, 5): statements
 * run in child processes (data/sql-executor.ts), never on the hub's event loop.
 */
export interface SqlLimits {
  /** A statement still running after this is stopped (its process killed): `sql_timeout`. */
  timeoutMs: number;
  /** Rows one result may hold; more are cut and the answer says `truncated`. */
  maxRows: number;
  /** Bytes (as JSON) one result may hold; more are cut and the answer says `truncated`. */
  maxBytes: number;
  /** Processes running statements at once. */
  workers: number;
  /** Statements waiting for a process; more are refused with `sql_busy` (429). */
  maxQueued: number;
  /** `GET /sql/db`: the snapshot copy must be made within this. */
  snapshotTimeoutMs: number;
}

/** Firmware images: the library (issue 8) and the archives both the flasher and OTA unpack. */
export interface FirmwareLimits {
  /** Largest firmware file the library accepts (issue 8: "a size cap, default 16 MB"). */
  maxImageBytes: number;
  /** Largest ELF stored next to an image (debug info makes them several times the image). */
  maxElfBytes: number;
  /** Total bytes the firmware library may hold on disk; an upload past it gets 413. */
  maxLibraryBytes: number;
  /** Entries one archive (fw.zip) may hold. */
  maxZipEntries: number;
  /** Bytes one archive entry may inflate to, counted while it inflates (declared sizes lie). */
  maxZipEntryBytes: number;
  /** Bytes all entries of one archive may inflate to together. */
  maxZipTotalBytes: number;
}

/** Single-device OTA (issue 8, PROTOCOL.md 6). */
export interface OtaLimits {
  /** Transfers running at once across the hub; more wait in a FIFO queue. */
  maxConcurrent: number;
  /** How long a device has to come back after `OTA.End` before its job fails (`ota_timeout`). */
  rebootWindowMs: number;
  /** `OTA.Begin` commit_timeout (s): Mongoose OS reverts an image not committed by then. */
  commitTimeoutS: number;
  /** `ota.progress` at most this often when the percent did not change. */
  progressIntervalMs: number;
  /**
   * `OTA.Write` calls in flight across all transfers; more wait their turn (ota-write-gate.ts),
   * so concurrent transfers leave the event loop room for REST calls and other devices.
   */
  maxInflightWrites: number;
}

/** Staged fleet rollouts (issue 8, PROTOCOL.md 9). */
export interface RolloutLimits {
  /** Devices one rollout may target (a request past it is refused with 400). */
  maxDevices: number;
  /** Waves one rollout may have. */
  maxWaves: number;
  /** Longest health window (s); it must also stay below `ota.commitTimeoutS` (Mongoose OS). */
  maxHealthS: number;
  /** Unfinished jobs one rollout may have at once (transfers also share `ota.maxConcurrent`). */
  maxConcurrency: number;
  /** Attempts for a device whose update a hub restart interrupted before it counts as failed. */
  maxAttempts: number;
  /** How often running rollouts look at their health windows (ms). */
  tickMs: number;
  /** Timeout of the rollout's own device calls (`OTA.Commit`, `Sys.GetInfo`), ms. */
  callTimeoutMs: number;
}

/** Fleet crash decoding (issue 8 "ESP32 crashes decoded fleet-wide"; crashes/). */
export interface CrashDecodeLimits {
  /** Decoded backtraces per device per minute; more are skipped (a boot-looping device). */
  maxPerDevicePerMinute: number;
  /** Parsed ELF symbol + line tables kept in memory (LRU); each costs up to tens of MB. */
  elfCacheEntries: number;
  /** ELF files larger than this are not loaded for decoding. */
  maxElfBytes: number;
  /** A console line longer than this is cut (a device that never sends a newline). */
  maxLineBytes: number;
  /** A partial console line is taken as complete after this long without more output. */
  lineIdleMs: number;
}

/**
 * Customers (PROTOCOL.md 4 customer API, issue 10). `/newcustomer` and `/invite` answer without a
 * key, so they are abuse targets: a per-address token bucket and a cap on customers. HTTP Basic
 * sign-ins cost a slow hash each, so they have a per-address bucket too.
 */
export interface CustomerLimits {
  /** Customers the hub holds at most; creating one more is refused (403, code 4039). */
  maxCustomers: number;
  /** `/newcustomer` + `/invite` calls per client address: refill per minute and burst (429 4296). */
  signupsPerMinute: number;
  signupBurst: number;
  /** HTTP Basic `email:password` attempts per client address: refill per minute and burst. */
  basicAuthPerMinute: number;
  basicAuthBurst: number;
  /** Client addresses whose buckets are remembered; the oldest are forgotten past this. */
  maxTrackedAddresses: number;
}

/** Customer web apps (issue 10, PROTOCOL.md 4): zips uploaded by `POST /api/v2/m`, served at `/a/<id>/`. */
export interface AppLimits {
  /** Largest zip `POST /api/v2/m` accepts (streamed to disk, cut off past it: 413). */
  maxZipBytes: number;
  /** Bytes one app may unpack to, counted while it inflates (a zip bomb is refused: 413 4133). */
  maxUnpackedBytes: number;
  /** Files one app zip may hold (entries in its directory). */
  maxFiles: number;
  /** Uploaded apps the hub keeps at most (the built-in app does not count); one more: 413. */
  maxApps: number;
}

/**
 * LAN services (issue 12): an SNTP server and a DNS responder for devices on a LAN with no
 * internet. These are the defaults; `<dataDir>/settings.json` (saved from the dashboard or
 * `PUT /api/v2/lan`) overrides them, and options given to createHub (the `serve` flags) win over
 * both for one run.
 */
export interface LanSettings {
  /** Run the responders (`serve --lan-services`, the dashboard switch). Off by default. */
  enabled: boolean;
  /** SNTP (RFC 4330) UDP port; 123 is what every device asks. */
  sntpPort: number;
  /** DNS UDP port; 53 is what every resolver asks. */
  dnsPort: number;
  /**
   * Names answered with the hub's address; `*.` also matches every subdomain. The defaults are
   * what Cesanta's device libraries have compiled in (mDash library: `time.google.com`; Mongoose
   * OS: `pool.ntp.org` and its numbered pools; the hosted service `mdash.net`).
   */
  dnsNames: string[];
  /** `ip[:port]` of a resolver for every other name; null: other names are refused (REFUSED). */
  dnsUpstream: string | null;
  /** Address to answer with instead of the one of the interface the query came in on. */
  lanAddress: string | null;
}

export interface LanLimits {
  /** TTL of the A answers: short, so devices ask again soon after the hub's address changes. */
  dnsTtlS: number;
  /** Larger queries are dropped and counted (a query for one name fits in 512 with EDNS). */
  dnsMaxQueryBytes: number;
  /** An upstream answer larger than this is not relayed (SERVFAIL instead). */
  dnsMaxReplyBytes: number;
  /** A forwarded query with no upstream answer by then gets SERVFAIL. */
  dnsUpstreamTimeoutMs: number;
  /** Forwarded queries waiting at once; more get SERVFAIL at once (bounds sockets and timers). */
  dnsMaxForwards: number;
  /**
   * How long the DNS responder reuses its read of the interface table (0: read per query). Each
   * query needs the address of the interface it came in on; reading the table per query costs a
   * syscall walk, so a burst of queries shares one read, and an address change shows within this.
   */
  dnsInterfacesCacheMs: number;
  /** Larger SNTP packets (a request with extension fields or a MAC) are dropped and counted. */
  sntpMaxPacketBytes: number;
}

export type LanConfig = LanSettings & LanLimits;

/**
 * Discovery on the LAN (issue 12): the mDNS / DNS-SD advertiser (lan/mdns-advertiser.ts) and the
 * watch on the machine's addresses that keeps mDNS records and the TLS certificate current.
 */
export interface DiscoveryOptions {
  /**
   * Advertise the hub by mDNS (`<mdnsHostName>.local` and `_fleetbench._tcp`). Off for library
   * users and tests (like tlsPort); `fleetbench serve` and the desktop app turn it on.
   */
  mdns: boolean;
  /** First label of the mDNS host name; when another host answers it, `<name>-<hostname>` is used. */
  mdnsHostName: string;
  /** UDP port of mDNS (RFC 6762: 5353); another port only isolates tests. */
  mdnsPort: number;
  /** IPv4 address of the one interface to use for multicast, or null for every interface. */
  mdnsInterface: string | null;
  /** Interval of each of the 3 probes for the host name before claiming it (RFC 6762 8.1: 250 ms). */
  mdnsProbeMs: number;
  /**
   * How often the machine's LAN addresses are compared with the last ones (ms); on a change the
   * mDNS records are announced again and a generated TLS certificate is re-made. 0 = no polling.
   */
  addressPollMs: number;
  /** GET /api/v2/hubs asks the LAN and waits this long for answers unless `?wait_ms=` says. */
  browseWaitMs: number;
  /** Largest `?wait_ms=` (a request holds no more than this); above it is a 400. */
  maxBrowseWaitMs: number;
}

/** Backup and restore (issue 12): `POST /api/v2/backup`, `POST /api/v2/restore`, the CLI. */
export interface BackupLimits {
  /** Largest archive `POST /api/v2/restore` accepts (streamed to disk, cut off past it: 413). */
  maxRestoreBytes: number;
  /** Bytes a restore may unpack to in total, as its manifest says and counted while inflating. */
  maxUnpackedBytes: number;
  /** Files one archive may hold (zip entries; without zip64 the format stops at 65,535). */
  maxEntries: number;
}

export interface HubConfig {
  host: string;
  port: number;
  dataDir: string;
  limits: HubLimits;
  timings: HubTimings;
  retention: LogRetention;
  notify: NotifyLimits;
  data: DataLimits;
  sql: SqlLimits;
  firmware: FirmwareLimits;
  ota: OtaLimits;
  rollouts: RolloutLimits;
  crashes: CrashDecodeLimits;
  customers: CustomerLimits;
  apps: AppLimits;
  backup: BackupLimits;
  /** LAN services: defaults merged with the createHub options (see `lanOverrides`). */
  lan: LanConfig;
  /** The LAN settings the createHub options gave (the `serve` flags): they win over settings.json. */
  lanOverrides: Partial<LanSettings>;
  /** Where the built dashboard lives; null serves a built-in placeholder page. */
  rendererDir: string | null;
  /** pino level: 'silent' | 'error' | 'warn' | 'info' | 'debug'. */
  logLevel: string;
  /**
   * Port of the TLS listener (https:// and wss://, PROTOCOL.md 1), null for none. The CLI and the
   * desktop app default to 8443; library users and tests opt in.
   */
  tlsPort: number | null;
  /** PEM files of the user's own certificate; without them a local CA is made in `<dataDir>/tls`. */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  discovery: DiscoveryOptions;
}

/**
 * V8 heap growing factor of `fleetbench serve` at rest, in percent over the live heap; 0 keeps V8's
 * own factor (issue 11). It was 20: a connect storm left 32 KiB of RSS per device with V8's factor
 * and 15 KiB with 20. The full collections after a storm (heap-storm-mode.ts) now give that memory
 * back (16 KiB per device with V8's factor), while 20% ran a full marking every few seconds under
 * sustained REST RPC: V8's factor gave 0.05x more calls/s against the relay (seven A/B pairs,
 * bench/RESULTS.md).
 */
export const SERVE_HEAP_GROWING_PERCENT = 0;

/**
 * Corked device sockets and deferred REST RPC answers that wait for the end of an event-loop
 * turn at most (gateway/turn-writes.ts): at this many, they are all sent at once, so no write
 * waits for more than this many other events of its turn.
 */
export const TURN_WRITES_MAX = 256;

export const DEFAULT_PORT = 8009;
export const DEFAULT_TLS_PORT = 8443;

/**
 * `serve --demo N` (issue 7 item 2): the simulated devices run in a child process, so each costs
 * the hub one file descriptor (its end of the device's socket), and the hub keeps
 * `DEMO_FD_RESERVE` more for its database, listeners, dashboard and API clients, flash workers
 * and serial ports. The child needs one per device plus `DEMO_CHILD_FD_RESERVE`. A demo that
 * does not fit in the file limit is refused up front.
 */
export const DEMO_FDS_PER_DEVICE = 1;
export const DEMO_FD_RESERVE = 512;
export const DEMO_CHILD_FD_RESERVE = 64;

export const DEFAULT_LIMITS: HubLimits = {
  maxMessageBytes: 8 * 1024,
  maxReplyBytes: 64 * 1024,
  maxFrameHardBytes: 4 * 1024 * 1024,
  maxShadowBytes: 8 * 1024,
  maxCustomerMetaBytes: 32 * 1024,
  maxBodyBytes: 1024 * 1024,
  maxUploadBytes: 64 * 1024 * 1024,
  maxJsonDepth: 64,
  maxUploadsPerKey: 4,
  maxPendingCallsPerDevice: 64,
  maxSessionStepsRunning: 256,
  maxSessionStepsWhileLoggingIn: 4,
  listenBacklog: 4096,
  // Chatty real firmware logs a few lines and a shadow update or two per second.
  deviceFramesPerSecond: 100,
  deviceFrameBurst: 200,
  deviceBytesPerSecond: 256 * 1024,
  deviceByteBurst: 512 * 1024,
};

export const DEFAULT_TIMINGS: HubTimings = {
  rpcTimeoutMs: 30_000,
  pingIntervalMs: 20_000,
  maxMissedPongs: 3,
  commitWindowMs: 2,
  loginQuietMs: 50,
  sessionStepSlotMs: 1000,
  maxRpcTimeoutMs: 60_000,
  headersTimeoutMs: 20_000,
  // 64 MB (maxUploadBytes) in 5 minutes needs about 220 KB/s: any LAN, most uplinks.
  requestTimeoutMs: 5 * 60_000,
  bodyIdleTimeoutMs: 30_000,
  rateLimitDisconnectMs: 10_000,
  duplicateWindowMs: 30_000,
  duplicateHoldOffMs: 1_000,
  duplicateHoldOffMaxMs: 5 * 60_000,
  duplicateProbeMs: 2_000,
};

export const DEFAULT_RETENTION: LogRetention = {
  maxEntries: 100_000,
  maxAgeMs: 7 * 24 * 3600 * 1000,
  sweepIntervalMs: 60_000,
};

export const DEFAULT_NOTIFY: NotifyLimits = { maxBufferedBytes: 4 * 1024 * 1024 };

export const DEFAULT_DATA: DataLimits = {
  maxRowsPerDevice: 1_000_000,
  maxHttpResponseBytes: 1024 * 1024,
  httpEnabled: true,
  httpTimeoutMs: 30_000,
  maxHttpRequestBodyBytes: 8 * 1024,
  httpMaxRedirects: 5,
  httpRequestsPerMinute: 60,
  httpBurst: 10,
  httpMaxInFlight: 32,
  maxHttpNotifyBodyChars: 16 * 1024,
  httpAllowLoopback: false,
  httpAllowLinkLocal: false,
  httpAllowPrivate: true,
  maxAccountDbBytes: 10 * 1024 * 1024 * 1024,
  drainChunkBytes: 4096,
  maxSpoolFileBytes: 1024 * 1024,
  statementCacheSize: 4096,
  retentionMaxAgeMs: 0,
  retentionSweepIntervalMs: 60_000,
  retentionBatchRows: 5000,
};

export const DEFAULT_SQL: SqlLimits = {
  timeoutMs: 10_000,
  maxRows: 100_000,
  maxBytes: 16 * 1024 * 1024,
  workers: 2,
  maxQueued: 32,
  snapshotTimeoutMs: 10 * 60_000,
};

/**
 * `fleetbench import` (issue 12; src/main/import/): how much of a source server it holds or sends
 * at once, so a source with many devices or rows is paged, never loaded whole. The command runs
 * outside any hub: these are its own defaults, not hub options.
 */
export interface ImportLimits {
  /** Devices per `GET /devices?limit=` page (a source that ignores `limit` sends all at once). */
  devicePage: number;
  /** Rows per `SELECT .. LIMIT` page read from a source table. */
  rowPage: number;
  /** Bound parameters per INSERT sent to the target: the SQL API's `params` cap (999). */
  maxParams: number;
  /** JSON bytes of one INSERT's parameters: the target's body limit (`limits.maxBodyBytes`, 1 MB) with room to spare. */
  maxInsertBytes: number;
  /** One request to the source or the target may take this long. */
  requestTimeoutMs: number;
}

export const DEFAULT_IMPORT: ImportLimits = {
  devicePage: 500,
  rowPage: 1000,
  maxParams: 999,
  maxInsertBytes: 512 * 1024,
  requestTimeoutMs: 30_000,
};

export const DEFAULT_FIRMWARE: FirmwareLimits = {
  maxImageBytes: 16 * 1024 * 1024,
  maxElfBytes: 128 * 1024 * 1024,
  maxLibraryBytes: 1024 * 1024 * 1024,
  maxZipEntries: 256,
  // The biggest ESP app partition is 16 MB; filesystem images in a fw.zip stay below this too.
  maxZipEntryBytes: 32 * 1024 * 1024,
  maxZipTotalBytes: 64 * 1024 * 1024,
};

export const DEFAULT_OTA: OtaLimits = {
  maxConcurrent: 16,
  rebootWindowMs: 120_000,
  // Long enough for a person to look at the device before choosing Commit or Revert.
  commitTimeoutS: 600,
  progressIntervalMs: 250,
  maxInflightWrites: 4,
};

export const DEFAULT_ROLLOUTS: RolloutLimits = {
  maxDevices: 100_000,
  maxWaves: 100,
  maxHealthS: 86_400,
  maxConcurrency: 1000,
  maxAttempts: 3,
  tickMs: 250,
  callTimeoutMs: 10_000,
};

export const DEFAULT_CRASHES: CrashDecodeLimits = {
  maxPerDevicePerMinute: 6,
  elfCacheEntries: 4,
  maxElfBytes: 256 * 1024 * 1024,
  maxLineBytes: 4096,
  lineIdleMs: 500,
};

export const DEFAULT_CUSTOMERS: CustomerLimits = {
  maxCustomers: 100_000,
  // A person signs up once; an app's sign-up page retried by hand stays far below this.
  signupsPerMinute: 10,
  signupBurst: 5,
  basicAuthPerMinute: 60,
  basicAuthBurst: 20,
  maxTrackedAddresses: 10_000,
};

export const DEFAULT_DISCOVERY: DiscoveryOptions = {
  mdns: false,
  mdnsHostName: 'fleetbench',
  mdnsPort: 5353,
  mdnsInterface: null,
  mdnsProbeMs: 250,
  // A laptop moving between networks (or a DHCP renewal) is noticed within seconds.
  addressPollMs: 5000,
  // Hubs answer within a few hundred ms; a second leaves room for a busy Wi-Fi.
  browseWaitMs: 1000,
  maxBrowseWaitMs: 10_000,
};

export const DEFAULT_APPS: AppLimits = {
  // A PWA with its icons and a framework bundle is a few MB; photos and videos belong elsewhere.
  maxZipBytes: 32 * 1024 * 1024,
  maxUnpackedBytes: 64 * 1024 * 1024,
  maxFiles: 2000,
  maxApps: 100,
};

export const DEFAULT_LAN: LanConfig = {
  enabled: false,
  sntpPort: 123,
  dnsPort: 53,
  dnsNames: ['time.google.com', 'pool.ntp.org', '*.pool.ntp.org', 'mdash.net'],
  dnsUpstream: null,
  lanAddress: null,
  // A device that moves to another hub (or a hub whose address changes) asks again within a minute.
  dnsTtlS: 60,
  // 1232 is the EDNS buffer size DNS Flag Day 2020 settled on: no fragmentation on any LAN.
  dnsMaxQueryBytes: 1232,
  dnsMaxReplyBytes: 4096,
  dnsUpstreamTimeoutMs: 2000,
  dnsMaxForwards: 256,
  dnsInterfacesCacheMs: 1000,
  sntpMaxPacketBytes: 1024,
};

export const DEFAULT_BACKUP: BackupLimits = {
  // The zip format without zip64 (what fflate writes and zip-directory.ts reads) stops at 4 GiB.
  maxRestoreBytes: 4 * 1024 * 1024 * 1024 - 1,
  maxUnpackedBytes: 32 * 1024 * 1024 * 1024,
  maxEntries: 65_000,
};

export type HubOptions = Partial<
  Omit<
    HubConfig,
    | 'limits'
    | 'timings'
    | 'retention'
    | 'notify'
    | 'data'
    | 'sql'
    | 'firmware'
    | 'ota'
    | 'crashes'
    | 'rollouts'
    | 'customers'
    | 'apps'
    | 'backup'
    | 'lan'
    | 'lanOverrides'
    | 'discovery'
  >
> & {
  dataDir: string;
  limits?: Partial<HubLimits>;
  timings?: Partial<HubTimings>;
  retention?: Partial<LogRetention>;
  notify?: Partial<NotifyLimits>;
  data?: Partial<DataLimits>;
  sql?: Partial<SqlLimits>;
  firmware?: Partial<FirmwareLimits>;
  ota?: Partial<OtaLimits>;
  rollouts?: Partial<RolloutLimits>;
  crashes?: Partial<CrashDecodeLimits>;
  customers?: Partial<CustomerLimits>;
  apps?: Partial<AppLimits>;
  backup?: Partial<BackupLimits>;
  /** LAN settings given here win over `<dataDir>/settings.json`; limits replace the defaults. */
  lan?: Partial<LanConfig>;
  discovery?: Partial<DiscoveryOptions>;
};

/** Fills every unspecified option with its documented default. */
export function resolveConfig(options: HubOptions): HubConfig {
  return {
    host: options.host ?? '0.0.0.0',
    port: options.port ?? DEFAULT_PORT,
    dataDir: options.dataDir,
    rendererDir: options.rendererDir ?? null,
    logLevel: options.logLevel ?? 'info',
    tlsPort: options.tlsPort ?? null,
    ...(options.tlsCertFile !== undefined && { tlsCertFile: options.tlsCertFile }),
    ...(options.tlsKeyFile !== undefined && { tlsKeyFile: options.tlsKeyFile }),
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    timings: { ...DEFAULT_TIMINGS, ...options.timings },
    retention: { ...DEFAULT_RETENTION, ...options.retention },
    notify: { ...DEFAULT_NOTIFY, ...options.notify },
    data: { ...DEFAULT_DATA, ...options.data },
    sql: { ...DEFAULT_SQL, ...options.sql },
    firmware: { ...DEFAULT_FIRMWARE, ...options.firmware },
    ota: { ...DEFAULT_OTA, ...options.ota },
    rollouts: { ...DEFAULT_ROLLOUTS, ...options.rollouts },
    crashes: { ...DEFAULT_CRASHES, ...options.crashes },
    customers: { ...DEFAULT_CUSTOMERS, ...options.customers },
    apps: { ...DEFAULT_APPS, ...options.apps },
    backup: { ...DEFAULT_BACKUP, ...options.backup },
    lan: { ...DEFAULT_LAN, ...options.lan },
    discovery: { ...DEFAULT_DISCOVERY, ...options.discovery },
    lanOverrides: pickLanSettings(options.lan ?? {}),
  };
}

const LAN_SETTING_KEYS = [
  'enabled',
  'sntpPort',
  'dnsPort',
  'dnsNames',
  'dnsUpstream',
  'lanAddress',
] as const satisfies readonly (keyof LanSettings)[];

/** The settings (not the limits) present in `lan`, so they can win over the saved ones. */
function pickLanSettings(lan: Partial<LanConfig>): Partial<LanSettings> {
  const out: Partial<LanSettings> = {};
  for (const k of LAN_SETTING_KEYS) {
    if (lan[k] !== undefined) Object.assign(out, { [k]: lan[k] });
  }
  return out;
}

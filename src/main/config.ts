/**
 * Every limit and default of the hub in one place (DESIGN.md example 5). Each value names the
 * PROTOCOL.md section it comes from; tests exercise each limit at its edge.
 */
export interface HubLimits {
  /** Largest device frame or REST JSON message accepted (PROTOCOL.md intro: message 8 KB). */
  maxMessageBytes: number;
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
}

export interface HubTimings {
  /** Calls we send to a device time out after this (PROTOCOL.md 2: 30 s). */
  rpcTimeoutMs: number;
  /** Server ping interval (PROTOCOL.md 1: every 20 s). */
  pingIntervalMs: number;
  /** Pongs that may be missed before the peer is dropped (PROTOCOL.md 1: 3). */
  maxMissedPongs: number;
  /** Group commit: longest a write waits for others before its transaction commits. */
  commitWindowMs: number;
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
  /** Outbound HTTP.Request response size cap (PROTOCOL.md 2). */
  maxHttpResponseBytes: number;
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
}

export const DEFAULT_PORT = 8009;
export const DEFAULT_TLS_PORT = 8443;

export const DEFAULT_LIMITS: HubLimits = {
  maxMessageBytes: 8 * 1024,
  maxFrameHardBytes: 4 * 1024 * 1024,
  maxShadowBytes: 8 * 1024,
  maxCustomerMetaBytes: 32 * 1024,
  maxBodyBytes: 1024 * 1024,
  maxUploadBytes: 64 * 1024 * 1024,
};

export const DEFAULT_TIMINGS: HubTimings = {
  rpcTimeoutMs: 30_000,
  pingIntervalMs: 20_000,
  maxMissedPongs: 3,
  commitWindowMs: 2,
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
};

export type HubOptions = Partial<
  Omit<HubConfig, 'limits' | 'timings' | 'retention' | 'notify' | 'data'>
> & {
  dataDir: string;
  limits?: Partial<HubLimits>;
  timings?: Partial<HubTimings>;
  retention?: Partial<LogRetention>;
  notify?: Partial<NotifyLimits>;
  data?: Partial<DataLimits>;
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
  };
}

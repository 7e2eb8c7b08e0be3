/**
 * Composition root (DESIGN.md example 2): `createHub()` builds nothing that listens; `start()`
 * boots the parts in the order listed, `stop()` takes them down in reverse.
 */
import { isIP, type AddressInfo } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { resolveConfig, type HubConfig, type HubOptions } from './config';
import { openStore, type Store } from './store/store';
import { readMasterKeyFile, writeMasterKeyFile } from './store/data-dir';
import { NotificationBus } from './events/notification-bus';
import { startLogWriter, type LogWriter } from './events/log-writer';
import { NotifyEndpoint } from './events/notify-endpoint';
import { DeviceService } from './devices/device-service';
import { DeviceGateway } from './gateway/device-gateway';
import { pathnameOf } from './gateway/upgrade-auth';
import { rejectUpgrade } from './gateway/upgrade-reject';
import { HubError } from '../shared/errors';
import { createHttpServer } from './api/http-server';
import type { RouteRecord } from './api/auth';
import { registerDevicesRoutes } from './api/devices-routes';
import { installRpcFastPath, type RpcFastPath } from './api/rpc-fast-path';
import { TurnWrites } from './gateway/turn-writes';
import { registerKeysRoutes } from './api/keys-routes';
import { registerLogsRoutes } from './api/logs-routes';
import { registerHubRoutes } from './api/hub-routes';
import { registerDoctorRoutes } from './api/doctor-routes';
import { doctorHubView } from './lan/doctor-hub-view';
import { registerDashboard } from './api/dashboard-routes';
import { registerFirmwareRoutes } from './api/firmware-routes';
import { FirmwareLibrary } from './firmware/firmware-library';
import { CrashDecoder } from './crashes/crash-decoder';
import { reportedFwId } from './crashes/reported-fw-id';
import { OtaManager } from './ota/ota-manager';
import { registerOtaRoutes } from './api/ota-routes';
import { RolloutManager } from './ota/rollout-manager';
import { registerRolloutRoutes } from './api/rollout-routes';
import { SqlExecutor } from './data/sql-executor';
import { registerSqlRoutes } from './api/sql-routes';
import { registerDeviceDataRoutes } from './api/device-data-routes';
import { registerCustomerRoutes } from './api/customer-routes';
import { CustomerService } from './customers/customer-service';
import { registerAppsRoutes } from './api/apps-routes';
import { registerBackupRoutes } from './api/backup-routes';
import { hubSnapshotSources } from './backup/hub-sources';
import { applyPendingRestore } from './backup/data-dir-swap';
import { removeHubLock, writeHubLock } from './backup/hub-lock';
import { AppStore, findBuiltInAppDir } from './customers/app-store';
import { registerDevicePublicRoutes } from './api/device-public-routes';
import { PublicKeyIndex } from './devices/public-key-index';
import { DeviceNotifyEndpoint } from './events/device-notify-endpoint';
import { ACCOUNT_FILE } from './store/data-dir';
import { join } from 'node:path';
import { hubUrls, lanAddresses, type HubUrls, type InterfaceReader } from './hub-urls';
import { MdnsAdvertiser } from './lan/mdns-advertiser';
import { HubBrowser } from './lan/hub-browser';
import { AddressWatcher } from './lan/address-watcher';
import { ensureHubId } from './lan/hub-id';
import { registerHubsRoutes } from './api/hubs-routes';
import { LanServices } from './lan/lan-services';
import { registerLanRoutes } from './api/lan-routes';
import { startTlsListener, type TlsListener } from './tls/tls-listener';
import { hostname, networkInterfaces } from 'node:os';
import { APP_VERSION } from './version';
import { createFlasher, type FlasherOptions } from './flasher/flasher-services';
import { mountLocalFlasher, stopFlasher, type FlasherServices } from './api/local-flasher-mount';

export type { FlasherOptions, FlasherServices };

export interface HubServices {
  store: Store;
  bus: NotificationBus;
  devices: DeviceService;
  gateway: DeviceGateway;
  notify: NotifyEndpoint;
  app: FastifyInstance;
  logWriter: LogWriter;
  tls: TlsListener | null;
  flasher: FlasherServices;
  firmware: FirmwareLibrary;
  crashes: CrashDecoder;
  ota: OtaManager;
  rollouts: RolloutManager;
  /** The SQL API's executor (child processes on the account database). */
  sql: SqlExecutor;
  /** Devices by ACL `public_key`, for the device public API. */
  publicKeys: PublicKeyIndex;
  /** REST RPC GETs answered without Fastify (null at log levels that log requests). */
  rpcFastPath: RpcFastPath | null;
  /** `/api/v2/m/device/notify`. */
  deviceNotify: DeviceNotifyEndpoint;
  /** The mDNS / DNS-SD advertiser (null when `discovery.mdns` is off). */
  mdns: MdnsAdvertiser | null;
  /** Hubs seen on the LAN (on the advertiser's socket; null without one). */
  hubBrowser: HubBrowser | null;
  /** The LAN-address watch that keeps the TLS certificate and mDNS records current. */
  addresses: AddressWatcher;
  /** This hub's id on the LAN (`<dataDir>/hub-id`). */
  hubId: string;
  /** SNTP server and DNS responder for offline LANs (issue 12; off unless enabled). */
  lan: LanServices;
}

export interface Hub {
  readonly config: HubConfig;
  start(): Promise<HubUrls>;
  stop(): Promise<void>;
  urls(): HubUrls;
  /** The key stored in `<dataDir>/master.key`, created on first start. */
  masterKey(): string;
  /** Every registered HTTP route with its auth mode (for the auth coverage test). */
  readonly routes: RouteRecord[];
  /** The running parts; throws before start(). */
  services(): HubServices;
  /**
   * Stops and starts again on the same ports; a restore waiting beside the data dir is applied
   * in between (issue 12: `POST /api/v2/restore`).
   */
  restart(): Promise<HubUrls>;
}

export function createHub(
  options: HubOptions & {
    publicHost?: string;
    flasher?: FlasherOptions;
    /** The interface list (os.networkInterfaces); a test injects one to simulate a change. */
    networkInterfaces?: InterfaceReader;
  },
): Hub {
  const config = resolveConfig(options);
  const readInterfaces: InterfaceReader = options.networkInterfaces ?? networkInterfaces;
  let services: HubServices | null = null;
  let key = '';
  let urls: HubUrls | null = null;
  const routes: RouteRecord[] = [];

  let booting = false;
  /** The ports to listen on: the configured ones, or those of the run before a restart. */
  let ports = { http: config.port, tls: config.tlsPort };

  /**
   * Boots the parts in order; when a step fails, every part already up is taken down again,
   * newest first, so a failed start leaks no descriptor, listener or open database and the same
   * hub (or another on the same data dir) can start afterwards (issue 7 item 4).
   */
  async function start(): Promise<HubUrls> {
    if (services || booting) throw new Error('hub already started');
    booting = true;
    const undo: (() => unknown)[] = [];
    try {
      return await boot(undo);
    } catch (err) {
      for (const step of undo.reverse()) {
        try {
          await step();
        } catch {
          // Keep undoing: the first failure is the one to report.
        }
      }
      services = null;
      urls = null;
      key = '';
      routes.length = 0;
      throw err;
    } finally {
      booting = false;
    }
  }

  async function boot(undo: (() => unknown)[]): Promise<HubUrls> {
    // A restore uploaded before a restart, or interrupted by a crash, is put in place first.
    const restored = applyPendingRestore(config.dataDir);
    const store = openStore(config.dataDir, config.timings.commitWindowMs);
    undo.push(() => store.close());
    key = ensureMasterKey(store, config.dataDir);
    const bus = new NotificationBus();
    const http = await createHttpServer(config, store.keys);
    undo.push(() => http.app.close());
    const log = http.app.log;
    const logWriter = startLogWriter(bus, store.log, config.retention, (err) =>
      log.error({ err }, 'notification log write failed'),
    );
    undo.push(() => logWriter.stop());
    const devices = new DeviceService(store, bus, {
      maxShadowBytes: config.limits.maxShadowBytes,
      onError: (err, context) => log.error({ err, context }, 'device store write failed'),
    });
    store.onStorageError((db, err, fatal) =>
      log.error(
        { err, db, code: err.code },
        fatal ? 'store stopped taking writes: restart the hub' : 'store write failed',
      ),
    );
    await markAllOffline(store, devices, (err, id) =>
      log.error({ err, device: id }, 'could not mark device offline at startup'),
    );
    // REST RPC answers and device frames of one event-loop turn leave together (issue 11).
    const turnWrites = new TurnWrites((err) => log.error({ err }, 'deferred write failed'));
    const gateway = new DeviceGateway({
      config,
      devices,
      bus,
      account: store.account,
      log,
      turnWrites,
      // Read at request time: both listeners are up by then (port 0 in tests).
      ownPorts: () => [port(), ...(services?.tls ? [services.tls.port] : [])],
    });
    undo.push(() => gateway.close());
    devices.setLink(gateway);
    const notify = new NotifyEndpoint(bus, store.keys, config.notify.maxBufferedBytes);
    undo.push(() => notify.close());

    const devicesDeps = {
      devices,
      gateway,
      rpcTimeoutMs: config.timings.rpcTimeoutMs,
      maxRpcTimeoutMs: config.timings.maxRpcTimeoutMs,
      maxMessageBytes: config.limits.maxMessageBytes,
    };
    registerDevicesRoutes(http.app, devicesDeps);
    const rpcFastPath = installRpcFastPath(http.app, {
      ...devicesDeps,
      keys: store.keys,
      turnWrites,
    });
    registerKeysRoutes(http.app, store.keys);
    const sql = new SqlExecutor({
      file: join(config.dataDir, ACCOUNT_FILE),
      dataDir: config.dataDir,
      limits: config.sql,
    });
    undo.push(() => sql.close());
    registerSqlRoutes(http.app, sql);
    registerDeviceDataRoutes(http.app, { devices, sql });
    // Built from the registry once; the ACL events keep it in step (no scan per request).
    const publicKeys = new PublicKeyIndex(store.devices.list());
    const deviceNotify = new DeviceNotifyEndpoint(bus, publicKeys, config.notify.maxBufferedBytes);
    undo.push(() => deviceNotify.close());
    devices.onAclChanged((id, acl) => {
      publicKeys.set(id, acl);
      deviceNotify.recheck(id);
    });
    registerDevicePublicRoutes(http.app, {
      devices,
      gateway,
      rpcTimeoutMs: config.timings.rpcTimeoutMs,
      maxRpcTimeoutMs: config.timings.maxRpcTimeoutMs,
      maxMessageBytes: config.limits.maxMessageBytes,
      keys: publicKeys,
      sql,
    });
    registerLogsRoutes(http.app, store.log);
    registerCustomerRoutes(http.app, {
      customers: new CustomerService(store.customers, {
        limits: config.customers,
        maxMetaBytes: config.limits.maxCustomerMetaBytes,
      }),
      limits: config.customers,
      // Where phones on the LAN reach this hub: the device URL's host, over http.
      lanOrigin: () =>
        new URL(hubUrls(config.host, port(), options.publicHost).device).origin.replace(
          /^ws/,
          'http',
        ),
    });
    const startedAt = Date.now();
    registerHubRoutes(http.app, () => ({
      version: APP_VERSION,
      uptime_s: Math.round((Date.now() - startedAt) / 1000),
      device_url: hubUrls(config.host, port(), options.publicHost).device,
      devices: store.devices.count(),
      online: gateway.onlineCount,
      frames: gateway.stats.snapshot(),
      data: gateway.data.stats.snapshot(),
      notifications: { published: bus.published, subscribers: bus.subscriberCount },
      store: store.health(),
    }));
    const flasherCore = createFlasher(options.flasher ?? {}, {
      bus,
      devices,
      deviceUrl: () => hubUrls(config.host, port(), options.publicHost).device,
      log: {
        warn: (msg) => http.app.log.warn({ component: 'port-watch' }, msg),
        info: (obj, msg) => http.app.log.info({ component: 'port-watch', ...obj }, msg),
      },
    });
    const flasher = await mountLocalFlasher(http.app, flasherCore, {
      keys: store.keys,
      maxUploadBytes: config.limits.maxUploadBytes,
    });
    undo.push(() => stopFlasher(flasher));

    const firmware = new FirmwareLibrary(config.dataDir, store.firmware, config.firmware);
    await registerFirmwareRoutes(http.app, { library: firmware, limits: config.firmware });
    const crashes = new CrashDecoder({
      bus,
      firmware,
      reportedFwId: (id) => reportedFwId(devices, id),
      limits: config.crashes,
      onError: (err, device) => log.warn({ err, device }, 'crash backtrace decode failed'),
    });
    crashes.start();
    undo.push(() => crashes.stop());
    const ota = new OtaManager({
      devices,
      library: firmware,
      bus,
      repo: store.otaJobs,
      limits: config.ota,
      log,
    });
    ota.recover();
    undo.push(() => ota.stop());
    await registerOtaRoutes(http.app, { ota, library: firmware, limits: config.firmware });
    // After OTA recovered its jobs: rollouts resume where they stopped and follow them.
    const rollouts = new RolloutManager({
      devices,
      bus,
      ota,
      library: firmware,
      repo: store.rollouts,
      limits: config.rollouts,
      commitTimeoutS: config.ota.commitTimeoutS,
      log,
    });
    undo.push(() => rollouts.stop());
    registerRolloutRoutes(http.app, rollouts);

    const builtInApp = findBuiltInAppDir();
    if (builtInApp === null) log.warn('built-in customer app not found: /a/default/ is a 404');
    const apps = new AppStore(config.dataDir, config.apps, builtInApp);
    await registerAppsRoutes(http.app, { store: apps, limits: config.apps });
    if (restored) log.warn({ previous: restored.previous }, 'started on a restored data dir');
    await registerBackupRoutes(http.app, {
      sources: hubSnapshotSources(config.dataDir, store.registry, sql, store.log),
      limits: config.backup,
      restart: async () => void (await restart()),
      log,
    });
    // Built now for its routes; its sockets open after the HTTP listener (below).
    const lan = new LanServices({ config, log, readInterfaces });
    registerLanRoutes(http.app, lan);

    // Read at request time: the listeners and the LAN parts are up by then.
    registerDoctorRoutes(http.app, () =>
      doctorHubView({
        bindHost: config.host,
        httpPort: port,
        tlsPort: () => services?.tls?.port ?? null,
        dataDir: config.dataDir,
        ...(config.tlsCertFile !== undefined && { tlsCertFile: config.tlsCertFile }),
        store,
        readInterfaces,
        lan: () => services?.lan.status() ?? null,
        mdns: () => services?.mdns?.status() ?? null,
      }),
    );
    const hubId = ensureHubId(config.dataDir);
    const mdnsNames = MdnsAdvertiser.hostNames({
      hostName: config.discovery.mdnsHostName,
      machineHostname: hostname(),
      id: hubId,
    });
    registerHubsRoutes(http.app, {
      id: hubId,
      mdns: () => services?.mdns?.status() ?? { enabled: false, advertising: false, addresses: [] },
      // Only while the advertiser's socket is open (it is closed when 5353 could not be bound).
      browser: () => (services?.mdns?.mdns ? services.hubBrowser : null),
      waitMs: config.discovery.browseWaitMs,
      maxWaitMs: config.discovery.maxBrowseWaitMs,
    });
    await registerDashboard(http.app, config.rendererDir);
    routes.length = 0;
    routes.push(...http.routes);

    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
      const path = pathnameOf(req.url);
      if (path === '/api/v2/rpc') gateway.handleUpgrade(req, socket, head);
      else if (path === '/api/v2/notify') notify.handleUpgrade(req, socket, head);
      else if (path === '/api/v2/m/device/notify') deviceNotify.handleUpgrade(req, socket, head);
      else if (path === '/api/v2/local/monitor') flasher.monitor.handleUpgrade(req, socket, head);
      else rejectUpgrade(socket, new HubError('not_found', 'Not Found'));
    };
    http.app.server.on('upgrade', onUpgrade);
    await http.app
      .listen({ host: config.host, port: ports.http, backlog: config.limits.listenBacklog })
      .catch((err: unknown) => Promise.reject(listenError(err, 'HTTP', config.host, config.port)));
    const tls =
      ports.tls === null
        ? null
        : await startTlsListener(
            http.app,
            {
              host: config.host,
              port: ports.tls,
              dataDir: config.dataDir,
              names: tlsNames(config.host, options.publicHost, readInterfaces, mdnsNames),
              timings: config.timings,
              backlog: config.limits.listenBacklog,
              ...(config.tlsCertFile !== undefined && { certFile: config.tlsCertFile }),
              ...(config.tlsKeyFile !== undefined && { keyFile: config.tlsKeyFile }),
            },
            onUpgrade,
          ).catch((err: unknown) =>
            Promise.reject(listenError(err, 'TLS', config.host, config.tlsPort ?? 0)),
          );
    if (tls) undo.push(() => tls.close());
    // A responder that cannot bind says so in its status and the log: it never fails the start.
    await lan.start();
    undo.push(() => lan.stop());
    const currentUrls = (): HubUrls =>
      hubUrls(
        config.host,
        port(),
        options.publicHost,
        tls
          ? { port: tls.port, ...(tls.caPath !== undefined && { caPath: tls.caPath }) }
          : undefined,
        readInterfaces,
      );
    const mdns = config.discovery.mdns
      ? new MdnsAdvertiser({
          hostName: config.discovery.mdnsHostName,
          machineHostname: hostname(),
          id: hubId,
          port: config.discovery.mdnsPort,
          interface: config.discovery.mdnsInterface,
          probeMs: config.discovery.mdnsProbeMs,
          service: () => advertisedService(config.host, currentUrls(), hubId, readInterfaces),
          warn: (msg, err) => log.warn({ err }, msg),
        })
      : null;
    // On a new LAN address: a certificate that covers it (same CA), new A records and TXT URLs.
    const addresses = new AddressWatcher(
      () => lanAddresses(readInterfaces),
      config.discovery.addressPollMs,
      async () => {
        urls = currentUrls();
        mdns?.refresh();
        if (
          tls &&
          (await tls.refresh(tlsNames(config.host, options.publicHost, readInterfaces, mdnsNames)))
        ) {
          log.info('LAN addresses changed: made a new TLS server certificate (same local CA)');
        }
      },
      (err) => log.warn({ err }, 'LAN address watch failed'),
    );
    services = {
      store,
      bus,
      devices,
      gateway,
      notify,
      app: http.app,
      logWriter,
      tls,
      flasher,
      firmware,
      crashes,
      ota,
      rollouts,
      sql,
      publicKeys,
      rpcFastPath,
      deviceNotify,
      mdns,
      lan,
      hubBrowser: null,
      addresses,
      hubId,
    };
    // Awaited until the socket is open (multicast-dns loads only now, never with mDNS off);
    // probing the name takes ~1 s more and is not awaited: mDNS trouble never stops the hub.
    await mdns?.start();
    if (mdns?.mdns) {
      services.hubBrowser = await HubBrowser.open(mdns.mdns, hubId).catch((err: unknown) => {
        log.warn({ err }, 'mDNS: cannot browse for other hubs');
        return null;
      });
    }
    addresses.start();
    // Not awaited: the first listing may take a moment (udevadm) and must not delay the hub.
    flasher.watcher?.start().catch(() => {});
    // Tells `fleetbench restore` this dir is in use and `fleetbench backup` where to ask.
    writeHubLock(config.dataDir, {
      pid: process.pid,
      port: port(),
      host: config.host,
      started: Date.now(),
    });
    urls = currentUrls();
    return urls;
  }

  function port(): number {
    const addr = services?.app.server.address() as AddressInfo | null;
    return addr?.port ?? config.port;
  }

  async function stop(): Promise<void> {
    const s = services;
    if (!s) return;
    services = null;
    // Flasher first: running jobs are cancelled and their ports released before the rest stops.
    await stopFlasher(s.flasher);
    await s.addresses.stop();
    await s.lan.stop();
    s.hubBrowser?.stop();
    // Goodbye packets go out while the hub still answers: browsers drop it at once.
    await s.mdns?.stop();
    await s.crashes.stop();
    // Rollouts, then OTA: no rollout starts a job while the jobs stop where they are (the next
    // start settles them), and both stop before the device sockets go.
    s.rollouts.stop();
    await s.ota.stop();
    await s.notify.close();
    await s.deviceNotify.close();
    await s.gateway.close();
    await s.tls?.close();
    await s.app.close();
    s.sql.close();
    s.logWriter.stop();
    // The log's thread, if it runs, writes what it was handed before the files close.
    await s.store.log.close();
    s.store.close();
    removeHubLock(config.dataDir);
  }

  async function restart(): Promise<HubUrls> {
    const keep = { http: port(), tls: services?.tls?.port ?? ports.tls };
    await stop();
    ports = keep;
    return start();
  }

  return {
    config,
    start,
    stop,
    routes,
    urls() {
      if (!urls) throw new Error('hub not started');
      return urls;
    },
    masterKey() {
      if (!key) throw new Error('hub not started');
      return key;
    },
    services() {
      if (!services) throw new Error('hub not started');
      return services;
    },
    restart,
  };
}

/** Reuses `master.key` if it is still a valid key, else mints one and stores it (mode 0600). */
export function ensureMasterKey(store: Store, dataDir: string): string {
  const now = Math.floor(Date.now() / 1000);
  const existing = readMasterKeyFile(dataDir);
  if (existing !== null && store.keys.verify(existing, now)) return existing;
  const created = store.keys.create(now);
  writeMasterKeyFile(dataDir, created.key);
  return created.key;
}

/**
 * After a crash the registry may still say `online: true`; no device is connected at boot. One
 * device that cannot be written (an unreadable row, a failing disk) is logged and skipped: it must
 * never keep the hub from starting (issue 7 item 1). The writes still share group commits.
 */
export async function markAllOffline(
  store: Store,
  devices: DeviceService,
  onError: (err: unknown, id: string) => void,
): Promise<void> {
  let stale: string[];
  try {
    stale = store.devices.idsMarkedOnline();
  } catch (err) {
    onError(err, '*');
    return;
  }
  const results = await Promise.allSettled(
    stale.map((id) => devices.setReported(id, { online: false })),
  );
  results.forEach((r, i) => {
    if (r.status === 'rejected') onError(r.reason, stale[i] ?? '?');
  });
}

/** EADDRINUSE becomes the catalog's `address_in_use`, naming the port; anything else is kept. */
function listenError(err: unknown, what: 'HTTP' | 'TLS', host: string, port: number): unknown {
  if ((err as NodeJS.ErrnoException | null)?.code !== 'EADDRINUSE') return err;
  const flag = what === 'TLS' ? '--tls-port' : '--port';
  return new HubError(
    'address_in_use',
    `cannot listen on ${host}:${port} (${what}): the port is in use (another hub running?); pick another with ${flag}`,
    { port },
  );
}

/**
 * Names the TLS certificate must cover: loopback, this host (and its `.local` name), every LAN
 * address, the mDNS names this hub may advertise, the bound address and the public name.
 */
function tlsNames(
  bindHost: string,
  publicHost: string | undefined,
  read: InterfaceReader,
  mdnsNames: string[],
): string[] {
  const names = ['localhost', hostname(), `${hostname().split('.')[0] ?? ''}.local`];
  names.push('127.0.0.1', '::1', ...lanAddresses(read), ...mdnsNames);
  if (bindHost !== '0.0.0.0' && bindHost !== '::') names.push(bindHost);
  if (publicHost) names.push(publicHost);
  return names;
}

/**
 * What the mDNS service says: the A records (the LAN addresses on a hub bound to all interfaces,
 * else the bound address) and the TXT URLs (the same device URL `serve` prints; PROTOCOL.md 1).
 */
function advertisedService(
  bindHost: string,
  urls: HubUrls,
  id: string,
  read: InterfaceReader,
): { addresses: string[]; port: number; txt: Record<string, string> } {
  const wildcard = bindHost === '0.0.0.0' || bindHost === '::';
  const lan = lanAddresses(read);
  const addresses =
    wildcard || isIP(bindHost) === 0 ? (lan.length > 0 ? lan : ['127.0.0.1']) : [bindHost];
  const device = new URL(urls.device);
  return {
    addresses,
    port: Number(device.port),
    txt: {
      device_url: urls.device,
      dashboard_url: `http://${device.host}/`,
      ...(urls.deviceTls !== undefined && { device_url_tls: urls.deviceTls }),
      version: APP_VERSION,
      id,
    },
  };
}

/**
 * Composition root (DESIGN.md example 2): `createHub()` builds nothing that listens; `start()`
 * boots the parts in the order listed, `stop()` takes them down in reverse.
 */
import type { AddressInfo } from 'node:net';
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
import { registerKeysRoutes } from './api/keys-routes';
import { registerLogsRoutes } from './api/logs-routes';
import { registerHubRoutes } from './api/hub-routes';
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
import { AppStore, findBuiltInAppDir } from './customers/app-store';
import { registerDevicePublicRoutes } from './api/device-public-routes';
import { PublicKeyIndex } from './devices/public-key-index';
import { DeviceNotifyEndpoint } from './events/device-notify-endpoint';
import { ACCOUNT_FILE } from './store/data-dir';
import { join } from 'node:path';
import { hubUrls, lanAddress, type HubUrls } from './hub-urls';
import { startTlsListener, type TlsListener } from './tls/tls-listener';
import { hostname } from 'node:os';
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
  /** `/api/v2/m/device/notify`. */
  deviceNotify: DeviceNotifyEndpoint;
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
}

export function createHub(
  options: HubOptions & { publicHost?: string; flasher?: FlasherOptions },
): Hub {
  const config = resolveConfig(options);
  let services: HubServices | null = null;
  let key = '';
  let urls: HubUrls | null = null;
  const routes: RouteRecord[] = [];

  let booting = false;

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
    const gateway = new DeviceGateway({
      config,
      devices,
      bus,
      account: store.account,
      log,
      // Read at request time: both listeners are up by then (port 0 in tests).
      ownPorts: () => [port(), ...(services?.tls ? [services.tls.port] : [])],
    });
    undo.push(() => gateway.close());
    devices.setLink(gateway);
    const notify = new NotifyEndpoint(bus, store.keys, config.notify.maxBufferedBytes);
    undo.push(() => notify.close());

    registerDevicesRoutes(http.app, {
      devices,
      gateway,
      rpcTimeoutMs: config.timings.rpcTimeoutMs,
      maxRpcTimeoutMs: config.timings.maxRpcTimeoutMs,
      maxMessageBytes: config.limits.maxMessageBytes,
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

    await registerDashboard(http.app, config.rendererDir);
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
      .listen({ host: config.host, port: config.port, backlog: config.limits.listenBacklog })
      .catch((err: unknown) => Promise.reject(listenError(err, 'HTTP', config.host, config.port)));
    const tls =
      config.tlsPort === null
        ? null
        : await startTlsListener(
            http.app,
            {
              host: config.host,
              port: config.tlsPort,
              dataDir: config.dataDir,
              names: tlsNames(config.host, options.publicHost),
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
      deviceNotify,
    };
    // Not awaited: the first listing may take a moment (udevadm) and must not delay the hub.
    flasher.watcher?.start().catch(() => {});
    urls = hubUrls(
      config.host,
      port(),
      options.publicHost,
      tls ? { port: tls.port, ...(tls.caPath !== undefined && { caPath: tls.caPath }) } : undefined,
    );
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
    s.store.close();
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

/** Names the TLS certificate must cover: loopback, this host, its LAN address, the public name. */
function tlsNames(bindHost: string, publicHost?: string): string[] {
  const names = ['localhost', hostname(), '127.0.0.1', '::1'];
  const lan = lanAddress();
  if (lan) names.push(lan);
  if (bindHost !== '0.0.0.0' && bindHost !== '::') names.push(bindHost);
  if (publicHost) names.push(publicHost);
  return names;
}

/**
 * Composition root of the dashboard: builds one store per feature (DESIGN.md example 7), wires
 * the notify stream into them, and mirrors the route to the address bar. Everything it touches
 * outside the page comes in through `AppEnvironment`, so tests run it against a real hub (or a
 * small fake server) without a browser.
 */
import type { Notification } from '../shared/types';
import { ApiError } from './api/api-error';
import type { AddressBar, KeyStorage } from './api/browser';
import type { DesktopClient } from './api/desktop';
import { createApiClient, type ApiClient, type FetchLike } from './api/http-client';
import { openNotifyStream, type NotifyStream, type SocketFactory } from './api/notify-stream';
import { createCustomersApi } from './api/customers-api';
import { createDataApi } from './api/data-api';
import { createOtaApi, type UploadTransport } from './api/ota-api';
import { createBackupApi } from './api/backup-api';
import { createLanApi } from './api/lan-api';
import { createNetworkApi } from './api/network-api';
import type { HistoryStorage } from './lib/query-history';
import { parseKeyFragment } from './lib/key-fragment';
import { parseRoute, routeHash } from './lib/routes';
import { createAppsStore, type AppsStore } from './stores/apps-store';
import { createBackupStore, type BackupStore } from './stores/backup-store';
import { createLanStore, type LanStore } from './stores/lan-store';
import { createNetworkStore, type NetworkStore } from './stores/network-store';
import { createConnectionStore, type ConnectionStore } from './stores/connection-store';
import { createCustomersStore, type CustomersStore } from './stores/customers-store';
import { createDataStore, type DataStore } from './stores/data-store';
import { createDeviceAclStore, type DeviceAclStore } from './stores/device-acl-store';
import { createDeviceDataStore, type DeviceDataStore } from './stores/device-data-store';
import { createDeviceDetailStore, type DeviceDetailStore } from './stores/device-detail-store';
import { createDevicesStore, type DevicesStore } from './stores/devices-store';
import { createFirmwareStore, type FirmwareStore } from './stores/firmware-store';
import { createOtaStore, type OtaStore } from './stores/ota-store';
import { createRolloutsStore, type RolloutsStore } from './stores/rollouts-store';
import { createRouteStore, type RouteStore } from './stores/route-store';
import { createSessionStore, type SessionStore } from './stores/session-store';
import { createToastStore, type ToastStore } from './stores/toast-store';

/** How long login waits for the notify stream's first open before it reads the list anyway. */
export const FIRST_OPEN_WAIT_MS = 3000;

export interface AppEnvironment {
  /** The hub's origin: the page's own (`location.origin`). */
  origin: string;
  addressBar: AddressBar;
  storage: KeyStorage;
  desktop: DesktopClient | null;
  createSocket: SocketFactory;
  fetch?: FetchLike;
  /** Browser `online` events: retry the notify stream at once. */
  onNetworkOnline?(listener: () => void): () => void;
  now?(): number;
  /** Notify batching window (ms); tests shorten it. */
  notifyBatchMs?: number;
  copyText?(text: string): Promise<boolean>;
  /** Multipart uploads with progress (XMLHttpRequest in the browser); tests pass their own. */
  upload?: UploadTransport;
  /** Hands a downloaded file to the user (an `<a download>` click in the browser). */
  saveFile?(blob: Blob, name: string): void;
  /** How long rollout live updates coalesce before the page re-reads (ms). */
  rolloutResyncMs?: number;
  /** Where the SQL console keeps its history (localStorage in the browser). */
  historyStorage?: HistoryStorage | null;
}

export interface App {
  session: SessionStore;
  devices: DevicesStore;
  detail: DeviceDetailStore;
  firmware: FirmwareStore;
  ota: OtaStore;
  rollouts: RolloutsStore;
  data: DataStore;
  deviceData: DeviceDataStore;
  deviceAcl: DeviceAclStore;
  customers: CustomersStore;
  apps: AppsStore;
  /** Settings: LAN services (issue 12). */
  lan: LanStore;
  /** Settings: backup and restore. */
  backup: BackupStore;
  /** The Network page: doctor checks and hubs on the LAN. */
  network: NetworkStore;
  connection: ConnectionStore;
  toasts: ToastStore;
  route: RouteStore;
  /** Reads the key, connects, starts the notify stream. */
  start(): Promise<void>;
  copyText(text: string): Promise<boolean>;
  /** Desktop only: shows the hub's data folder in the file manager. */
  openDataFolder(): Promise<void>;
  dispose(): void;
}

export function createApp(env: AppEnvironment): App {
  const now = env.now ?? Date.now;
  const fragment = parseKeyFragment(env.addressBar.hash());
  if (fragment.key !== null) {
    // Drop the key from the address bar at once: it must not stay in history or screenshots.
    env.addressBar.replaceHash(fragment.rest);
  }

  let stream: NotifyStream | null = null;
  let disposed = false;
  const cleanups: (() => void)[] = [];

  const toasts = createToastStore();
  const connection = createConnectionStore(now);
  const route = createRouteStore(
    parseRoute(fragment.rest !== '' ? fragment.rest : env.addressBar.hash()),
  );
  const reportError = (e: unknown, context: string): void => {
    toasts.getState().pushError(e, context);
  };
  const onUnauthorized = (): void => {
    session
      .getState()
      .logout('The hub no longer accepts this key (401). Paste a valid master key.');
  };
  const api = (): ApiClient | null => session.getState().api;

  const devices = createDevicesStore({
    api,
    deviceUrl: () => session.getState().deviceUrl,
    reportError,
    onUnauthorized,
    now,
  });
  const detail = createDeviceDetailStore({ api, reportError, onUnauthorized, now });

  /** One feature client per session client (same origin and key), built on first use. */
  const perClient = <T>(make: (c: ApiClient) => T): (() => T | null) => {
    let memo: { client: ApiClient; made: T } | null = null;
    return () => {
      const client = api();
      if (!client) return null;
      if (memo?.client !== client) memo = { client, made: make(client) };
      return memo.made;
    };
  };
  const clientOptions = (c: ApiClient) => ({
    baseUrl: c.baseUrl,
    key: c.key(),
    ...(env.fetch ? { fetch: env.fetch } : {}),
  });
  const uploadOption = env.upload ? { upload: env.upload } : {};

  const otaApi = perClient((c) => createOtaApi({ ...clientOptions(c), ...uploadOption }));
  const firmware = createFirmwareStore({
    api: otaApi,
    saveFile: (blob, name) => env.saveFile?.(blob, name),
    onUnauthorized,
  });
  const ota = createOtaStore({ api: otaApi, onUnauthorized });
  const rollouts = createRolloutsStore({
    api: otaApi,
    devices: api,
    onUnauthorized,
    ...(env.rolloutResyncMs !== undefined ? { resyncMs: env.rolloutResyncMs } : {}),
  });

  const dataApi = perClient((c) => createDataApi(clientOptions(c)));
  const data = createDataStore({
    api: dataApi,
    storage: env.historyStorage ?? null,
    saveFile: (blob, name) => env.saveFile?.(blob, name),
    onUnauthorized,
    now,
  });
  const deviceData = createDeviceDataStore({ api: dataApi, onUnauthorized });
  const deviceAcl = createDeviceAclStore({ api: dataApi, onUnauthorized });

  const customersApi = perClient((c) =>
    createCustomersApi({ ...clientOptions(c), ...uploadOption }),
  );
  const customers = createCustomersStore({ api: customersApi, devices: api, onUnauthorized });
  const apps = createAppsStore({ api: customersApi, onUnauthorized });
  const lan = createLanStore({
    api: perClient((c) => createLanApi(clientOptions(c))),
    onUnauthorized,
  });
  const backup = createBackupStore({
    api: perClient((c) => createBackupApi(clientOptions(c))),
    save: (b) => env.saveFile?.(b.blob, b.fileName),
    onUnauthorized,
  });
  const network = createNetworkStore({
    api: perClient((c) => createNetworkApi(clientOptions(c))),
    onUnauthorized,
  });

  /** Loads what the current route shows beyond the device list (on connect and on navigation). */
  const openRoute = (r: ReturnType<typeof route.getState>['route']): void => {
    if (r.name === 'device') {
      void detail.getState().open(r.id);
      const known = devices.getState().devices.get(r.id);
      void ota.getState().open(r.id, known?.online ?? false);
    } else {
      detail.getState().close();
      ota.getState().close();
      deviceData.getState().close();
      deviceAcl.getState().close();
    }
    if (r.name === 'customers') {
      void customers.getState().refresh();
      void apps.getState().refresh();
    }
    if (r.name === 'apps') void apps.getState().refresh();
    if (r.name === 'firmware') void firmware.getState().refresh();
    if (r.name === 'rollouts' || r.name === 'rollout') {
      void rollouts.getState().refresh();
      void rollouts.getState().openRollout(r.name === 'rollout' ? r.id : null);
    }
  };

  const dispatch = (batch: Notification[]): void => {
    devices.getState().applyNotifications(batch);
    detail.getState().applyNotifications(batch);
    ota.getState().applyNotifications(batch);
    rollouts.getState().applyNotifications(batch);
  };

  /** The client whose stream is open, and what the first list read is doing. */
  let streamClient: ApiClient | null = null;
  let listState: 'none' | 'loading' | 'loaded' = 'none';
  let openedDuringLoad = false;

  /**
   * Opens the stream and resolves at its first open or failure (at most `FIRST_OPEN_WAIT_MS`):
   * the list is read after that, so no notification falls between the two (DESIGN.md: one read
   * of the list on load, PROTOCOL.md 7).
   */
  function startStream(client: ApiClient): Promise<void> {
    stream?.close();
    streamClient = client;
    listState = 'none';
    openedDuringLoad = false;
    let settle: () => void = () => {};
    const settled = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, FIRST_OPEN_WAIT_MS);
      settle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    stream = openNotifyStream({
      url: client.notifyUrl(),
      createSocket: env.createSocket,
      onBatch: dispatch,
      onStatus: (s) => {
        connection.getState().setStatus(s);
        if (s.state !== 'connecting') settle();
      },
      onInvalid: (count) => connection.getState().setInvalidFrames(count),
      // Notifications sent while the socket was down are lost: read again what the page shows
      // on every open after the first list read (the open device too). An open before that
      // read needs nothing: the read comes after it.
      onOpen: () => {
        if (listState === 'loading') openedDuringLoad = true;
        if (listState !== 'loaded') return;
        void devices.getState().resync();
        void detail.getState().refresh();
        // ota.* / rollout.* sent while the socket was down are gone too.
        if (ota.getState().device !== null) void ota.getState().reload();
        const r = route.getState().route;
        if (r.name === 'rollouts' || r.name === 'rollout') openRoute(r);
      },
      ...(env.notifyBatchMs !== undefined ? { batchMs: env.notifyBatchMs } : {}),
    });
    const s = stream;
    connection.getState().setRetry(() => s.retryNow());
    return settled;
  }

  async function loadList(client: ApiClient): Promise<void> {
    listState = 'loading';
    try {
      await devices.getState().load(client);
    } catch (e) {
      listState = 'none';
      throw e;
    }
    listState = 'loaded';
    // The socket opened while the list was on its way: the read may predate it.
    if (openedDuringLoad) {
      devices
        .getState()
        .load(client)
        .catch((e: unknown) => reportError(e, 'Reload devices'));
    }
  }

  function stopStream(): void {
    stream?.close();
    stream = null;
    streamClient = null;
    listState = 'none';
    connection.getState().setRetry(() => {});
  }

  const session = createSessionStore({
    origin: env.origin,
    storage: env.storage,
    fragmentKey: fragment.key,
    desktop: env.desktop,
    makeApi: (key) =>
      createApiClient({ baseUrl: env.origin, key, ...(env.fetch ? { fetch: env.fetch } : {}) }),
    verify: async (client) => {
      if (disposed) return;
      await startStream(client);
      await loadList(client);
    },
    onFailed: (client) => {
      if (streamClient === client) stopStream();
    },
    onConnected: () => {
      if (disposed) return;
      openRoute(route.getState().route);
    },
    onDisconnected: () => {
      stopStream();
      devices.getState().clear();
      detail.getState().close();
      ota.getState().close();
      deviceData.getState().close();
      deviceAcl.getState().close();
    },
  });

  // Route <-> address bar.
  cleanups.push(
    route.subscribe((state, prev) => {
      if (state.route === prev.route) return;
      const hash = routeHash(state.route);
      if (env.addressBar.hash() !== hash) env.addressBar.pushHash(hash);
      if (session.getState().phase !== 'ready') return;
      openRoute(state.route);
    }),
  );
  cleanups.push(
    env.addressBar.onHashChange(() => {
      const next = parseRoute(env.addressBar.hash());
      const cur = route.getState().route;
      if (routeHash(next) !== routeHash(cur)) route.getState().navigate(next);
    }),
  );
  if (env.onNetworkOnline) cleanups.push(env.onNetworkOnline(() => stream?.retryNow()));

  return {
    session,
    devices,
    detail,
    firmware,
    ota,
    rollouts,
    data,
    deviceData,
    deviceAcl,
    customers,
    apps,
    lan,
    backup,
    network,
    connection,
    toasts,
    route,
    start: () => session.getState().start(),
    copyText: (text) => (env.copyText ? env.copyText(text) : Promise.resolve(false)),
    async openDataFolder() {
      if (!env.desktop) throw new ApiError(501, 0, 'only available in the desktop app');
      await env.desktop.openDataFolder();
    },
    dispose() {
      disposed = true;
      stopStream();
      for (const c of cleanups.splice(0)) c();
    },
  };
}

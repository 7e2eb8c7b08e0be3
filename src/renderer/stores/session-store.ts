/**
 * Connecting to the hub. The hub is the page's origin; the master key comes from the desktop
 * bridge when running in Electron, else from the `#key=` fragment the headless hub prints, else
 * from this tab's sessionStorage, else the login form (PROTOCOL.md 4: the key is a Bearer token).
 * A key counts as good once `GET /devices` accepts it; that one read also fills the device table
 * (the app controller opens the notify stream first, so nothing sent meanwhile is missed).
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { AppVersion } from '../../shared/desktop-bridge';
import { toApiError } from '../api/api-error';
import type { KeyStorage } from '../api/browser';
import type { DesktopClient } from '../api/desktop';
import type { ApiClient } from '../api/http-client';
import { deviceUrlFor } from '../lib/device-fields';

export type SessionPhase = 'starting' | 'login' | 'connecting' | 'ready';
export type KeySource = 'desktop' | 'fragment' | 'stored' | 'form';

export interface SessionState {
  phase: SessionPhase;
  /** Why the login form is showing (rejected key, unreachable hub). */
  error: string | null;
  source: KeySource | null;
  api: ApiClient | null;
  /** URL to paste into firmware (PROTOCOL.md 1): the desktop app knows the LAN address. */
  deviceUrl: string;
  /** Set inside the desktop app. */
  appVersion: AppVersion | null;
  isDesktop: boolean;
  start(): Promise<void>;
  submitKey(key: string): Promise<boolean>;
  logout(reason?: string): void;
}

export interface SessionDeps {
  origin: string;
  storage: KeyStorage;
  /** A key found in the address bar's fragment (already removed from it). */
  fragmentKey: string | null;
  desktop: DesktopClient | null;
  makeApi(key: string): ApiClient;
  /** Proves the key by reading the device list (and keeps it); throws the hub's error. */
  verify(api: ApiClient): Promise<void>;
  /** The key failed (or a newer attempt replaced this one): undo what `verify` started. */
  onFailed(api: ApiClient): void;
  onConnected(api: ApiClient): void;
  onDisconnected(): void;
}

export type SessionStore = StoreApi<SessionState>;

export function createSessionStore(deps: SessionDeps): SessionStore {
  let attempt = 0;
  return createStore<SessionState>()((set, get) => {
    async function tryKey(key: string, source: KeySource): Promise<boolean> {
      const mine = ++attempt;
      set({ phase: 'connecting', error: null, source });
      const api = deps.makeApi(key);
      try {
        await deps.verify(api);
        if (mine !== attempt) {
          deps.onFailed(api);
          return false;
        }
        if (source !== 'desktop') deps.storage.save(key);
        set({ phase: 'ready', api, error: null });
        deps.onConnected(api);
        return true;
      } catch (e) {
        deps.onFailed(api);
        if (mine !== attempt) return false;
        const err = toApiError(e);
        let error: string;
        if (err.status === 401 || err.status === 403) {
          deps.storage.clear();
          error = `The hub did not accept this key (${err.code}: ${err.message}). Paste the master key printed by \`fleetbench serve\`.`;
        } else if (err.code === 0) {
          error = `Cannot reach the hub at ${deps.origin}: ${err.message}`;
        } else {
          error = `The hub answered with an error (${err.code}: ${err.message}).`;
        }
        set({ phase: 'login', api: null, error });
        return false;
      }
    }

    return {
      phase: 'starting',
      error: null,
      source: null,
      api: null,
      deviceUrl: deviceUrlFor(deps.origin),
      appVersion: null,
      isDesktop: deps.desktop !== null,
      async start() {
        if (deps.desktop) {
          try {
            const [info, version] = await Promise.all([
              deps.desktop.hubInfo(),
              deps.desktop.appVersion().catch(() => null),
            ]);
            set({ deviceUrl: info.deviceUrl, appVersion: version });
            await tryKey(info.key, 'desktop');
            return;
          } catch (e) {
            const err = toApiError(e);
            set({
              phase: 'login',
              error: `The desktop app did not provide the hub key (${err.code}: ${err.message}).`,
            });
            return;
          }
        }
        if (deps.fragmentKey !== null) {
          await tryKey(deps.fragmentKey, 'fragment');
          return;
        }
        const stored = deps.storage.load();
        if (stored !== null && stored !== '') {
          await tryKey(stored, 'stored');
          return;
        }
        set({ phase: 'login', error: null });
      },
      async submitKey(key) {
        const trimmed = key.trim();
        if (trimmed === '') {
          set({ error: 'Paste the master key first.' });
          return false;
        }
        return tryKey(trimmed, 'form');
      },
      logout(reason) {
        attempt++;
        deps.storage.clear();
        const wasReady = get().phase === 'ready';
        set({ phase: 'login', api: null, error: reason ?? null, source: null });
        if (wasReady) deps.onDisconnected();
      },
    };
  });
}

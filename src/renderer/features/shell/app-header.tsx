/** Top bar: brand, navigation, live-connection badge, desktop extras or log out. */
import type { ReactNode } from 'react';
import { useApp, useConnection, useDevices, useRoute, useSession } from '../../app-context';
import { ConnectionIndicator } from '../../components/connection-indicator';
import { useNow } from '../../components/use-now';

export function AppHeader(): ReactNode {
  const app = useApp();
  const status = useConnection((s) => s.status);
  const retryNow = useConnection((s) => s.retryNow);
  const total = useDevices((s) => s.devices.size);
  const online = useDevices((s) => s.onlineCount);
  const route = useRoute((s) => s.route);
  const navigate = useRoute((s) => s.navigate);
  const isDesktop = useSession((s) => s.isDesktop);
  const appVersion = useSession((s) => s.appVersion);
  const logout = useSession((s) => s.logout);
  const now = useNow(1000);

  return (
    <header className="topbar">
      <a
        className="brand"
        href="#/devices"
        onClick={(e) => {
          e.preventDefault();
          navigate({ name: 'devices' });
        }}
      >
        <span className="brand-mark" aria-hidden="true" />
        Fleetbench
      </a>
      <nav aria-label="Main">
        <a
          href="#/devices"
          className={`nav-link ${route.name === 'devices' ? 'active' : ''}`}
          aria-current={route.name === 'devices' ? 'page' : undefined}
          onClick={(e) => {
            e.preventDefault();
            navigate({ name: 'devices' });
          }}
        >
          Devices{' '}
          <span className="pill" data-testid="nav-online-count">
            {online}/{total}
          </span>
        </a>
        <a
          href="#/flasher"
          className={`nav-link ${route.name === 'flasher' ? 'active' : ''}`}
          aria-current={route.name === 'flasher' ? 'page' : undefined}
          onClick={(e) => {
            e.preventDefault();
            navigate({ name: 'flasher' });
          }}
          data-testid="nav-flasher"
        >
          Flasher
        </a>
        <a
          href="#/firmware"
          className={`nav-link ${route.name === 'firmware' ? 'active' : ''}`}
          aria-current={route.name === 'firmware' ? 'page' : undefined}
          onClick={(e) => {
            e.preventDefault();
            navigate({ name: 'firmware' });
          }}
          data-testid="nav-firmware"
        >
          Firmware
        </a>
        <a
          href="#/rollouts"
          className={`nav-link ${route.name === 'rollouts' || route.name === 'rollout' ? 'active' : ''}`}
          aria-current={route.name === 'rollouts' ? 'page' : undefined}
          onClick={(e) => {
            e.preventDefault();
            navigate({ name: 'rollouts' });
          }}
          data-testid="nav-rollouts"
        >
          Rollouts
        </a>
        <a
          href="#/data"
          className={`nav-link ${route.name === 'data' ? 'active' : ''}`}
          aria-current={route.name === 'data' ? 'page' : undefined}
          onClick={(e) => {
            e.preventDefault();
            navigate({ name: 'data' });
          }}
          data-testid="nav-data"
        >
          Data
        </a>
        <a
          href="#/customers"
          className={`nav-link ${route.name === 'customers' ? 'active' : ''}`}
          aria-current={route.name === 'customers' ? 'page' : undefined}
          onClick={(e) => {
            e.preventDefault();
            navigate({ name: 'customers' });
          }}
          data-testid="nav-customers"
        >
          Customers
        </a>
        <a
          href="#/apps"
          className={`nav-link ${route.name === 'apps' ? 'active' : ''}`}
          aria-current={route.name === 'apps' ? 'page' : undefined}
          onClick={(e) => {
            e.preventDefault();
            navigate({ name: 'apps' });
          }}
          data-testid="nav-apps"
        >
          Apps
        </a>
        <a
          href="#/network"
          className={`nav-link ${route.name === 'network' ? 'active' : ''}`}
          aria-current={route.name === 'network' ? 'page' : undefined}
          onClick={(e) => {
            e.preventDefault();
            navigate({ name: 'network' });
          }}
          data-testid="nav-network"
        >
          Network
        </a>
        <a
          href="#/settings"
          className={`nav-link ${route.name === 'settings' ? 'active' : ''}`}
          aria-current={route.name === 'settings' ? 'page' : undefined}
          onClick={(e) => {
            e.preventDefault();
            navigate({ name: 'settings' });
          }}
          data-testid="nav-settings"
        >
          Settings
        </a>
      </nav>
      <div className="topbar-spacer" />
      <ConnectionIndicator status={status} now={now} onRetry={retryNow} />
      {isDesktop ? (
        <>
          <button
            type="button"
            className="btn btn-ghost"
            onClick={() => {
              void app
                .openDataFolder()
                .catch((e: unknown) => app.toasts.getState().pushError(e, 'Open data folder'));
            }}
          >
            Data folder
          </button>
          {appVersion && (
            <span className="muted small" title={`Electron ${appVersion.electron}`}>
              v{appVersion.app}
            </span>
          )}
        </>
      ) : (
        <button
          type="button"
          className="btn btn-ghost"
          onClick={() => logout()}
          data-testid="logout"
        >
          Log out
        </button>
      )}
    </header>
  );
}

/** The dashboard's top level: login until a key works, then header + current screen + toasts. */
import type { ReactNode } from 'react';
import { useApp, useConnection, useRoute, useSession, useToasts } from './app-context';
import { OfflineBanner } from './components/offline-banner';
import { ToastList } from './components/toast-list';
import { ConnectScreen, Splash } from './features/connect/connect-screen';
import { DeviceDetailScreen } from './features/device-detail/device-detail-screen';
import { AppsScreen } from './features/apps/apps-screen';
import { CustomersScreen } from './features/customers/customers-screen';
import { DataScreen } from './features/data/data-screen';
import { DevicesScreen } from './features/devices/devices-screen';
import { FirmwareScreen } from './features/firmware/firmware-screen';
import { FlasherScreen } from './features/flasher/flasher-screen';
import { NetworkScreen } from './features/network/network-screen';
import { SettingsScreen } from './features/settings/settings-screen';
import { RolloutsScreen } from './features/rollouts/rollouts-screen';
import { AppHeader } from './features/shell/app-header';
import { isStale } from './stores/connection-store';

export function App({ origin }: { origin: string }): ReactNode {
  const app = useApp();
  const phase = useSession((s) => s.phase);
  const source = useSession((s) => s.source);
  const route = useRoute((s) => s.route);
  const toasts = useToasts((s) => s.toasts);
  const dismiss = app.toasts.getState().dismiss;
  const stale = useConnection(isStale);

  // While a remembered key is being checked, show a splash rather than flashing the login form.
  const checking = phase === 'starting' || (phase === 'connecting' && source !== 'form');
  let body: ReactNode;
  if (checking) body = <Splash />;
  else if (phase !== 'ready') body = <ConnectScreen origin={origin} />;
  else
    body = (
      <>
        <AppHeader />
        <OfflineBanner />
        {/* `stale` greys live values on every screen while the hub is not reachable. */}
        <div className={`screen ${stale ? 'stale' : ''}`} data-stale={String(stale)}>
          {route.name === 'device' ? (
            <DeviceDetailScreen key={route.id} id={route.id} />
          ) : route.name === 'flasher' ? (
            <FlasherScreen />
          ) : route.name === 'firmware' ? (
            <FirmwareScreen />
          ) : route.name === 'data' ? (
            <DataScreen />
          ) : route.name === 'customers' ? (
            <CustomersScreen origin={origin} />
          ) : route.name === 'apps' ? (
            <AppsScreen origin={origin} />
          ) : route.name === 'network' ? (
            <NetworkScreen origin={origin} />
          ) : route.name === 'settings' ? (
            <SettingsScreen />
          ) : route.name === 'rollouts' || route.name === 'rollout' ? (
            <RolloutsScreen openId={route.name === 'rollout' ? route.id : null} />
          ) : (
            <DevicesScreen />
          )}
        </div>
      </>
    );
  return (
    <>
      {body}
      <ToastList toasts={toasts} onDismiss={dismiss} />
    </>
  );
}

/** Hands the app's stores to components (no module-level singletons: DESIGN.md example 2). */
import { createContext, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { App } from './app-controller';
import type { AppsState } from './stores/apps-store';
import type { ConnectionState } from './stores/connection-store';
import type { CustomersState } from './stores/customers-store';
import type { DataState } from './stores/data-store';
import type { DeviceAclState } from './stores/device-acl-store';
import type { DeviceDataState } from './stores/device-data-store';
import type { DeviceDetailState } from './stores/device-detail-store';
import type { DevicesState } from './stores/devices-store';
import type { FirmwareState } from './stores/firmware-store';
import type { OtaState } from './stores/ota-store';
import type { RolloutsState } from './stores/rollouts-store';
import type { RouteState } from './stores/route-store';
import type { SessionState } from './stores/session-store';
import type { ToastState } from './stores/toast-store';

const AppContext = createContext<App | null>(null);

export function AppProvider({ app, children }: { app: App; children: ReactNode }): ReactNode {
  return <AppContext.Provider value={app}>{children}</AppContext.Provider>;
}

export function useApp(): App {
  const app = useContext(AppContext);
  if (!app) throw new Error('useApp outside <AppProvider>');
  return app;
}

export const useSession = <T,>(selector: (s: SessionState) => T): T =>
  useStore(useApp().session, selector);
export const useDevices = <T,>(selector: (s: DevicesState) => T): T =>
  useStore(useApp().devices, selector);
export const useDetail = <T,>(selector: (s: DeviceDetailState) => T): T =>
  useStore(useApp().detail, selector);
export const useConnection = <T,>(selector: (s: ConnectionState) => T): T =>
  useStore(useApp().connection, selector);
export const useToasts = <T,>(selector: (s: ToastState) => T): T =>
  useStore(useApp().toasts, selector);
export const useRoute = <T,>(selector: (s: RouteState) => T): T =>
  useStore(useApp().route, selector);
export const useFirmware = <T,>(selector: (s: FirmwareState) => T): T =>
  useStore(useApp().firmware, selector);
export const useOta = <T,>(selector: (s: OtaState) => T): T => useStore(useApp().ota, selector);
export const useRollouts = <T,>(selector: (s: RolloutsState) => T): T =>
  useStore(useApp().rollouts, selector);
export const useData = <T,>(selector: (s: DataState) => T): T => useStore(useApp().data, selector);
export const useDeviceData = <T,>(selector: (s: DeviceDataState) => T): T =>
  useStore(useApp().deviceData, selector);
export const useDeviceAcl = <T,>(selector: (s: DeviceAclState) => T): T =>
  useStore(useApp().deviceAcl, selector);
export const useCustomers = <T,>(selector: (s: CustomersState) => T): T =>
  useStore(useApp().customers, selector);
export const useApps = <T,>(selector: (s: AppsState) => T): T => useStore(useApp().apps, selector);

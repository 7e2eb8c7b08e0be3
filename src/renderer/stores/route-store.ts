/** The current screen. The app controller mirrors it to the address bar's hash (Back works). */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { Route } from '../lib/routes';

export interface RouteState {
  route: Route;
  navigate(route: Route): void;
}

export type RouteStore = StoreApi<RouteState>;

export function createRouteStore(initial: Route = { name: 'devices' }): RouteStore {
  return createStore<RouteState>()((set) => ({
    route: initial,
    navigate: (route) => set({ route }),
  }));
}

/** Hash routes of the dashboard (the page is served at `/` by the hub, so routing stays client-side). */
export type Route =
  | { name: 'devices' }
  | { name: 'device'; id: string }
  | { name: 'flasher' }
  | { name: 'firmware' }
  | { name: 'data' }
  | { name: 'rollouts' }
  | { name: 'customers' }
  | { name: 'apps' }
  | { name: 'network' }
  | { name: 'settings' }
  | { name: 'rollout'; id: string };

function decoded(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  try {
    const id = decodeURIComponent(raw);
    return id !== '' ? id : null;
  } catch {
    // a broken escape falls through to the list
    return null;
  }
}

export function parseRoute(hash: string): Route {
  if (hash === '#/flasher') return { name: 'flasher' };
  if (hash === '#/firmware') return { name: 'firmware' };
  if (hash === '#/data') return { name: 'data' };
  if (hash === '#/rollouts') return { name: 'rollouts' };
  if (hash === '#/customers') return { name: 'customers' };
  if (hash === '#/apps') return { name: 'apps' };
  if (hash === '#/network') return { name: 'network' };
  if (hash === '#/settings') return { name: 'settings' };
  const rollout = decoded(/^#\/rollouts\/(.+)$/.exec(hash)?.[1]);
  if (rollout !== null) return { name: 'rollout', id: rollout };
  const device = decoded(/^#\/devices\/(.+)$/.exec(hash)?.[1]);
  if (device !== null) return { name: 'device', id: device };
  return { name: 'devices' };
}

export function routeHash(route: Route): string {
  switch (route.name) {
    case 'flasher':
      return '#/flasher';
    case 'firmware':
      return '#/firmware';
    case 'data':
      return '#/data';
    case 'rollouts':
      return '#/rollouts';
    case 'customers':
      return '#/customers';
    case 'apps':
      return '#/apps';
    case 'network':
      return '#/network';
    case 'settings':
      return '#/settings';
    case 'rollout':
      return `#/rollouts/${encodeURIComponent(route.id)}`;
    case 'device':
      return `#/devices/${encodeURIComponent(route.id)}`;
    default:
      return '#/devices';
  }
}

/** Hash routes of the dashboard (the page is served at `/` by the hub, so routing stays client-side). */
export type Route = { name: 'devices' } | { name: 'device'; id: string } | { name: 'flasher' };

export function parseRoute(hash: string): Route {
  if (hash === '#/flasher') return { name: 'flasher' };
  const m = /^#\/devices\/(.+)$/.exec(hash);
  if (m?.[1] !== undefined) {
    try {
      const id = decodeURIComponent(m[1]);
      if (id !== '') return { name: 'device', id };
    } catch {
      // a broken escape falls through to the list
    }
  }
  return { name: 'devices' };
}

export function routeHash(route: Route): string {
  if (route.name === 'flasher') return '#/flasher';
  return route.name === 'device' ? `#/devices/${encodeURIComponent(route.id)}` : '#/devices';
}

/**
 * The headless hub prints the dashboard URL as `http://host:8009/#key=<master key>` so one click
 * logs in. The key is read from the fragment (never sent to the server in the request line or
 * Referer) and the fragment is then removed from the address bar.
 */
export interface FragmentKey {
  key: string | null;
  /** The fragment without the key, for the router: '' or '#/...' */
  rest: string;
}

export function parseKeyFragment(hash: string): FragmentKey {
  const raw = hash.startsWith('#') ? hash.slice(1) : hash;
  if (raw === '' || raw.startsWith('/')) return { key: null, rest: raw === '' ? '' : `#${raw}` };
  const params = new URLSearchParams(raw);
  const key = params.get('key');
  params.delete('key');
  const route = params.get('route');
  const rest = route !== null && route.startsWith('/') ? `#${route}` : '';
  return { key: key !== null && key.trim() !== '' ? key.trim() : null, rest };
}

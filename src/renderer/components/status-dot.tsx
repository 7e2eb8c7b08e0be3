import type { ReactNode } from 'react';

/**
 * Online/offline dot with a text alternative (color is never the only signal). `stale`: the
 * dashboard has lost the hub, so the state is only the last one known (a hollow grey dot).
 */
export function StatusDot({
  online,
  stale = false,
  id,
}: {
  online: boolean;
  stale?: boolean;
  id?: string;
}): ReactNode {
  const label = stale
    ? `${online ? 'online' : 'offline'} when last heard (hub not reachable)`
    : online
      ? 'online'
      : 'offline';
  return (
    <span
      id={id}
      className={`dot ${online ? 'dot-on' : 'dot-off'} ${stale ? 'dot-stale' : ''}`}
      role="img"
      aria-label={label}
      title={label}
    />
  );
}

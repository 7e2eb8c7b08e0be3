import type { ReactNode } from 'react';

/** Online/offline dot with a text alternative (color is never the only signal). */
export function StatusDot({ online }: { online: boolean }): ReactNode {
  return (
    <span
      className={`dot ${online ? 'dot-on' : 'dot-off'}`}
      role="img"
      aria-label={online ? 'online' : 'offline'}
      title={online ? 'online' : 'offline'}
    />
  );
}

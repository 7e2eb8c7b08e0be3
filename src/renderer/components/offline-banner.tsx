/**
 * Shown on every view while the notify stream is down (PROTOCOL.md 7): without it the page would
 * keep showing devices online with live-looking values after the hub stopped. The values
 * themselves are greyed by the `stale` class the app puts around the screen.
 */
import type { ReactNode } from 'react';
import { useConnection } from '../app-context';
import { offlineText } from '../lib/offline-text';
import { useNow } from './use-now';

export function OfflineBanner(): ReactNode {
  const status = useConnection((s) => s.status);
  const lostAt = useConnection((s) => s.lostAt);
  const retryNow = useConnection((s) => s.retryNow);
  const now = useNow(1000);
  if (lostAt === null) return null;
  const text = offlineText(status, lostAt, now);
  return (
    <div className="offline-banner" role="alert" data-testid="offline-banner">
      <span className="offline-icon" aria-hidden="true">
        !
      </span>
      <span>
        <strong>{text.title}</strong> <span data-testid="offline-since">{text.detail}</span>
      </span>
      <span className="offline-spacer" />
      <span className="offline-retry">{text.retry}</span>
      <button type="button" className="btn btn-small" onClick={retryNow}>
        Retry now
      </button>
    </div>
  );
}

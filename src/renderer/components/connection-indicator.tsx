/** Header badge for the notify stream (PROTOCOL.md 7): live, connecting, or reconnecting with a countdown. */
import type { ReactNode } from 'react';
import type { NotifyStatus } from '../api/notify-stream';

export interface ConnectionIndicatorProps {
  status: NotifyStatus;
  now: number;
  onRetry(): void;
}

export function connectionLabel(status: NotifyStatus, now: number): string {
  switch (status.state) {
    case 'open':
      return 'Live';
    case 'connecting':
      return status.attempt > 0 ? 'Reconnecting…' : 'Connecting…';
    case 'reconnecting': {
      const s = Math.max(0, Math.ceil((status.retryAt - now) / 1000));
      return s > 0 ? `Reconnecting in ${s} s` : 'Reconnecting…';
    }
    case 'closed':
      return 'Offline';
  }
}

export function ConnectionIndicator({ status, now, onRetry }: ConnectionIndicatorProps): ReactNode {
  const label = connectionLabel(status, now);
  return (
    <div
      className={`conn conn-${status.state}`}
      data-testid="connection-status"
      data-state={status.state}
      role="status"
      aria-live="polite"
    >
      <span className="conn-dot" aria-hidden="true" />
      <span>{label}</span>
      {status.state === 'reconnecting' && (
        <button type="button" className="btn btn-small btn-ghost" onClick={onRetry}>
          Retry now
        </button>
      )}
    </div>
  );
}

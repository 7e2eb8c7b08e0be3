/**
 * What the offline banner says (pure, so it is unit-tested): that live updates stopped, since
 * when the shown data may be out of date, and when the next reconnect attempt comes.
 */
import type { NotifyStatus } from '../api/notify-stream';
import { relativeTime } from './relative-time';

export interface OfflineText {
  title: string;
  detail: string;
  /** "Reconnecting in 4 s" / "Reconnecting…". */
  retry: string;
}

function clock(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

export function offlineText(status: NotifyStatus, lostAt: number, now: number): OfflineText {
  const ago = relativeTime(lostAt / 1000, now);
  let retry = 'Reconnecting…';
  if (status.state === 'reconnecting') {
    const s = Math.max(0, Math.ceil((status.retryAt - now) / 1000));
    if (s > 0) retry = `Reconnecting in ${s} s`;
  }
  return {
    title: 'The hub is not reachable.',
    detail: `Last update ${clock(lostAt)} (${ago}). Device states and values shown are from then and may have changed.`,
    retry,
  };
}

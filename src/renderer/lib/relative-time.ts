/** "Last seen" texts for the device table. Pure: the caller passes the clock. */

export function relativeTime(unixSeconds: number, nowMs: number): string {
  if (!Number.isFinite(unixSeconds) || unixSeconds <= 0) return 'never';
  const s = Math.round(nowMs / 1000 - unixSeconds);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  const d = Math.floor(h / 24);
  if (d < 365) return `${d} d ago`;
  return `${Math.floor(d / 365)} y ago`;
}

/** Absolute local time for tooltips, or '' when never. */
export function absoluteTime(unixSeconds: number): string {
  if (!Number.isFinite(unixSeconds) || unixSeconds <= 0) return '';
  return new Date(unixSeconds * 1000).toLocaleString();
}

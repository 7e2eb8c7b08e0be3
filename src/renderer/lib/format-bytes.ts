/**
 * 65536 -> '64 KB', 1536 -> '1.5 KB', 300 -> '300 B': binary units, as flash and firmware sizes
 * are. One formatter for every page that shows a size (flasher, firmware library, OTA).
 */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const text = v >= 100 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(1);
  return `${text} ${units[i] ?? 'GB'}`;
}

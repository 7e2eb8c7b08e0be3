/**
 * How many devices each wave of a rollout takes (PROTOCOL.md 9 `POST /rollouts` body), computed
 * from the device list when the hub has no `POST /rollouts/preview` route. Pure, so the numbers the
 * form shows are unit-tested. The hub's own rule wins whenever it answers the preview.
 *
 * Rules: the target is every device named in `devices` plus every device carrying ANY of the
 * comma-separated `labels` (`tags.labels`, a "a,b" string or an array); `skip_current` drops
 * devices already reporting the firmware's learned `fw_id`; `offline: "skip"` drops offline
 * devices (with "wait" they stay in and are updated when they come back). A wave is a count or a
 * percentage of the whole target (rounded up, at least 1 while devices remain); the last wave
 * also takes whatever the listed waves leave over, so every targeted device is in some wave.
 */

export interface PreviewDevice {
  id: string;
  online: boolean;
  labels: readonly string[];
  /** The `fw_id` the device reports (`state.reported.ota.fw_id`), "" when unknown. */
  fwId: string;
}

export interface PreviewInput {
  devices?: readonly string[];
  labels?: string;
  waves: readonly (number | string)[];
  skip_current: boolean;
  offline: 'wait' | 'skip';
  /** The target firmware's learned `fw_id`, "" when the hub has not learned it yet. */
  targetFwId: string;
}

export interface WavePreview {
  /** Devices in the rollout (after skips). */
  total: number;
  waves: number[];
  /** Dropped because they already run the firmware. */
  skippedCurrent: number;
  /** Offline now: dropped with "skip", waited for with "wait". */
  offline: number;
}

/** "a, b,,c" -> ["a","b","c"]. */
export function splitLabels(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** A wave entry as typed in the form: "10" -> 10, "25%" -> "25%"; null when it is neither. */
export function parseWave(text: string): number | string | null {
  const t = text.trim();
  const pct = /^(\d+(?:\.\d+)?)\s*%$/.exec(t);
  if (pct?.[1] !== undefined) {
    const v = Number(pct[1]);
    return v > 0 && v <= 100 ? `${pct[1]}%` : null;
  }
  if (/^\d+$/.test(t)) {
    const v = Number(t);
    return v > 0 ? v : null;
  }
  return null;
}

/** "1, 10%, 50%" -> [1, "10%", "50%"]; null with the first bad entry named. */
export function parseWaves(
  text: string,
): { ok: true; waves: (number | string)[] } | { ok: false; error: string } {
  const parts = text
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (parts.length === 0) return { ok: false, error: 'Give at least one wave, e.g. 1, 10%, 100%.' };
  const waves: (number | string)[] = [];
  for (const p of parts) {
    const w = parseWave(p);
    if (w === null)
      return { ok: false, error: `"${p}" is not a wave: use a count (5) or a percentage (25%).` };
    waves.push(w);
  }
  return { ok: true, waves };
}

function waveCount(wave: number | string, total: number): number {
  if (typeof wave === 'number') return Math.floor(wave);
  const pct = Number(wave.replace('%', ''));
  return Math.ceil((total * pct) / 100);
}

export function previewWaves(devices: readonly PreviewDevice[], input: PreviewInput): WavePreview {
  const ids = new Set(input.devices ?? []);
  const labels = new Set(splitLabels(input.labels ?? ''));
  let skippedCurrent = 0;
  let offline = 0;
  let total = 0;
  for (const d of devices) {
    const targeted = ids.has(d.id) || d.labels.some((l) => labels.has(l));
    if (!targeted) continue;
    if (input.skip_current && input.targetFwId !== '' && d.fwId === input.targetFwId) {
      skippedCurrent++;
      continue;
    }
    if (!d.online) {
      offline++;
      if (input.offline === 'skip') continue;
    }
    total++;
  }
  const waves: number[] = [];
  let left = total;
  input.waves.forEach((w, i) => {
    let n = Math.min(left, waveCount(w, total));
    if (left > 0 && n < 1) n = 1;
    if (i === input.waves.length - 1) n = left;
    waves.push(n);
    left -= n;
  });
  return { total, waves, skippedCurrent, offline };
}

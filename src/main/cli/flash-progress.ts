/**
 * How the CLI shows a flash job (issue: "CLI ... with a progress bar and clear errors"). Pure:
 * takes states, returns text. On a TTY the bar is redrawn in place; elsewhere (logs, CI, pipes)
 * progress is one line per 10 %.
 */
import type { FlashState } from '../../shared/flash-state';

export const BAR_WIDTH = 30;

function kb(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(2)} MB`
    : `${(bytes / 1024).toFixed(1)} KB`;
}

/** "[##########--------------------]  33%  85.3 KB / 256.0 KB  (file 1/2)". */
export function progressBar(
  s: Extract<FlashState, { state: 'writing' }>,
  width = BAR_WIDTH,
): string {
  const ratio = s.total > 0 ? Math.min(1, s.bytes / s.total) : 0;
  const filled = Math.round(ratio * width);
  const pct = `${Math.floor(ratio * 100)}`.padStart(3);
  const file =
    s.files !== undefined && s.files > 1 ? `  (file ${(s.file ?? 0) + 1}/${s.files})` : '';
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${pct}%  ${kb(s.bytes)} / ${kb(s.total)}${file}`;
}

/** One line describing a state change, or null for states that are not shown as lines. */
export function stateLine(s: FlashState): string | null {
  switch (s.state) {
    case 'queued':
      return null;
    case 'detecting':
      return 'Detecting the chip...';
    case 'connecting':
      return s.attempt && s.attempt > 1 ? `Connecting (attempt ${s.attempt})...` : 'Connecting...';
    case 'uploading_stub':
      return 'Uploading the flasher stub...';
    case 'erasing':
      return 'Erasing...';
    case 'writing':
      return 'Writing...';
    case 'verifying':
      return 'Verifying...';
    case 'resetting':
      return 'Resetting the board...';
    case 'provisioning':
      return `Provisioning: ${s.step}`;
    case 'waiting_online':
      return `Waiting for device ${s.deviceId} to come online...`;
    case 'done': {
      const chip = s.chip
        ? ` ${s.chip.chip}${s.chip.mac ? `, MAC ${s.chip.mac}` : ''}${s.chip.flashSize ? `, flash ${s.chip.flashSize}` : ''}.`
        : '';
      const dev = s.deviceId ? ` Device id: ${s.deviceId}.` : '';
      return `Done in ${(s.durationMs / 1000).toFixed(1)} s.${chip}${dev}`;
    }
    case 'failed':
    case 'cancelled':
      // The command ends with the error itself (cli.ts prints it with the exit code).
      return null;
  }
}

/**
 * Turns a stream of states into output: `lines` to print, and on a TTY the `bar` to draw in
 * place of the previous one (null: clear it).
 */
export class ProgressView {
  private lastState = '';
  private lastStep = '';
  private lastDecile = -1;

  constructor(private readonly tty: boolean) {}

  update(s: FlashState): { lines: string[]; bar: string | null | undefined } {
    const lines: string[] = [];
    const changed =
      s.state !== this.lastState || (s.state === 'provisioning' && s.step !== this.lastStep);
    if (changed) {
      const line = stateLine(s);
      if (line !== null) lines.push(line);
      this.lastState = s.state;
      if (s.state === 'provisioning') this.lastStep = s.step;
    }
    if (s.state !== 'writing') return { lines, bar: changed ? null : undefined };
    if (this.tty) return { lines, bar: progressBar(s) };
    const decile = s.total > 0 ? Math.floor((s.bytes / s.total) * 10) : 0;
    if (decile !== this.lastDecile) {
      this.lastDecile = decile;
      lines.push(`  ${decile * 10}%  (${s.bytes}/${s.total} bytes)`);
    }
    return { lines, bar: undefined };
  }
}

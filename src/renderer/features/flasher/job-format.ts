/** Pure helpers for the flasher page: address input, state labels, progress. */
import type { FlashState } from '../../../shared/flash-state';

/** '' -> undefined (let the hub decide), '0x1000' / '4096' -> number, anything else -> null. */
export function parseAddressText(text: string): number | undefined | null {
  const t = text.trim();
  if (t === '') return undefined;
  if (!/^(0[xX][0-9a-fA-F]{1,8}|[0-9]{1,10})$/.test(t)) return null;
  const n = Number(t);
  return n <= 0xffffffff ? n : null;
}

export function stateLabel(s: FlashState): string {
  switch (s.state) {
    case 'queued':
      return 'Queued';
    case 'detecting':
      return 'Detecting chip';
    case 'connecting':
      return s.attempt && s.attempt > 1 ? `Connecting (attempt ${s.attempt})` : 'Connecting';
    case 'uploading_stub':
      return 'Uploading stub';
    case 'erasing':
      return 'Erasing';
    case 'writing':
      return `Writing ${progressPercent(s)}%`;
    case 'verifying':
      return 'Verifying';
    case 'resetting':
      return 'Resetting';
    case 'provisioning':
      return `Provisioning: ${s.step}`;
    case 'waiting_online':
      return `Waiting for ${s.deviceId} to come online`;
    case 'done':
      return `Done in ${(s.durationMs / 1000).toFixed(1)} s`;
    case 'failed':
      return `Failed (${s.code})`;
    case 'cancelled':
      return 'Cancelled';
  }
}

export function progressPercent(s: FlashState): number {
  if (s.state === 'writing') return s.total > 0 ? Math.floor((s.bytes / s.total) * 100) : 0;
  if (
    s.state === 'verifying' ||
    s.state === 'resetting' ||
    s.state === 'provisioning' ||
    s.state === 'waiting_online' ||
    s.state === 'done'
  ) {
    return 100;
  }
  return 0;
}

export function isActive(s: FlashState): boolean {
  return s.state !== 'done' && s.state !== 'failed' && s.state !== 'cancelled';
}

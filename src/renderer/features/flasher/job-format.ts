/** Pure helpers for the flasher page: address input, state labels, progress, sizes, hints. */
import type { FlashState } from '../../../shared/flash-state';

// Sizes are shown the same on every page: the one formatter lives in lib/.
export { formatBytes } from '../../lib/format-bytes';

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
      // The percentage stands beside the bar; name the file when there are several.
      return s.files !== undefined && s.files > 1 && s.file !== undefined
        ? `Writing file ${s.file + 1} of ${s.files}`
        : 'Writing';
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
      return 'Failed';
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

/** Steps before any byte is written: their length is unknown, so the bar is indeterminate. */
export function isPreparing(s: FlashState): boolean {
  return (
    s.state === 'detecting' ||
    s.state === 'connecting' ||
    s.state === 'uploading_stub' ||
    s.state === 'erasing'
  );
}

export function isActive(s: FlashState): boolean {
  return s.state !== 'done' && s.state !== 'failed' && s.state !== 'cancelled';
}

/** The tone a state is shown in (design system colours: ok, danger, accent, muted). */
export function stateTone(s: FlashState): 'ok' | 'danger' | 'active' | 'muted' {
  if (s.state === 'done') return 'ok';
  if (s.state === 'failed') return 'danger';
  if (s.state === 'cancelled') return 'muted';
  return 'active';
}

/** 0x10000 -> '0x10000'. */
export function formatAddress(address: number): string {
  return `0x${address.toString(16)}`;
}

/**
 * What to do about a refused flash request, by catalog code (src/shared/errors.ts). The hub's REST
 * error carries only code and message; the checks that have a hint of their own put it in the message.
 */
export function refusalHint(code: number): string | undefined {
  switch (code) {
    case 4093:
      return 'Wait for the job on this port to finish, or cancel it; close any serial monitor on it.';
    case 4044:
      return 'Plug the board in, press Refresh and pick its port from the list.';
    case 413:
    case 4132:
      return 'The file is larger than the hub accepts or the flash holds: check you picked the right build.';
    case 401:
      return 'The hub no longer accepts this key: log out and paste the master key again.';
    case 0:
      return 'The hub is not reachable: check it is still running, then try again.';
    default:
      return undefined;
  }
}

/** Who holds a port, as the page says it: 'flash job j1a2b', 'monitor m3c4d', 'bench b5'. */
export function ownerLabel(owner: { kind: string; id: string }): string {
  return `${owner.kind === 'flash' ? 'flash job' : owner.kind} ${owner.id}`;
}

/**
 * Splits a refusal's message from the hint the hub appended to it. The REST error body has only
 * code and message, so the flasher's pre-flight checks send `message (hint.)` (job-errors.ts); a
 * message without such a trailing sentence comes back whole.
 */
export function splitHint(message: string): { message: string; hint?: string } {
  const m = /^(.+?) \(([^()]+\.)\)$/s.exec(message);
  if (!m?.[1] || !m[2]) return { message };
  return { message: m[1], hint: m[2] };
}

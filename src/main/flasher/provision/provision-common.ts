/**
 * What every provisioner shares: the report callback (DESIGN.md example 3: one callback, typed
 * states), option validation that ends in a FlashError, and opening the port with the open
 * failure mapped to the FlashError codes the job manager shows (port_not_found, port_busy).
 *
 * Secrets (Wi-Fi password, device token) never appear in step texts or error messages: both are
 * mirrored as notifications and stored in the log.
 */
import type { Static, TSchema } from 'typebox';
import Type from 'typebox';
import { FlashError, type FlashState } from '../../../shared/flash-state';
import { firstProblem } from '../../validate';
import { SerialLink } from '../monitor/serial-link';
import { describeOpenError } from '../serial/port-registry';

export type ProvisionReport = (state: FlashState) => void;

export const DEFAULT_PROVISION_BAUD = 115200;

/** Wi-Fi credentials as 802.11 bounds them: SSID 1..32 bytes, WPA passphrase 0 (open) or 8..63. */
export const WifiSchema = Type.Object(
  {
    ssid: Type.String({ minLength: 1, maxLength: 32 }),
    pass: Type.String({ maxLength: 64 }),
  },
  { additionalProperties: false },
);
export type WifiCredentials = Static<typeof WifiSchema>;

export const PortBaudFields = {
  path: Type.String({ minLength: 1, maxLength: 4096 }),
  baud: Type.Optional(Type.Integer({ minimum: 50, maximum: 12_000_000 })),
};

export function step(report: ProvisionReport | undefined, text: string): void {
  try {
    report?.({ state: 'provisioning', step: text });
  } catch {
    // A failing observer must not abort provisioning half-way through a device's configuration.
  }
}

/** Validates provisioner options; failures are FlashError('provision_failed') naming the field. */
export function parseOptions<S extends TSchema>(schema: S, value: unknown): Static<S> {
  const problem = firstProblem(schema, value);
  if (problem !== null) {
    throw new FlashError('provision_failed', `invalid provisioning options: ${problem}`);
  }
  return value as Static<S>;
}

/** UTF-8 length, since 802.11 limits are in bytes, not characters. */
export function checkWifiBytes(wifi: WifiCredentials | undefined): void {
  if (!wifi) return;
  if (Buffer.byteLength(wifi.ssid, 'utf8') > 32) {
    throw new FlashError(
      'provision_failed',
      'invalid provisioning options: /wifi/ssid is longer than 32 bytes',
    );
  }
  const passBytes = Buffer.byteLength(wifi.pass, 'utf8');
  if (passBytes > 64 || (passBytes > 0 && passBytes < 8)) {
    throw new FlashError(
      'provision_failed',
      'invalid provisioning options: /wifi/pass must be empty (open network) or 8..64 bytes',
    );
  }
}

/** Opens the port for a provisioner; open failures become port_not_found / port_busy FlashErrors. */
export async function openProvisionLink(
  path: string,
  baud: number,
  extra: { unplugPollMs?: number } = {},
): Promise<SerialLink> {
  try {
    return await SerialLink.open({ path, baud, ...extra });
  } catch (err) {
    const f = describeOpenError(path, err);
    const code =
      f.kind === 'not_found'
        ? 'port_not_found'
        : f.kind === 'busy'
          ? 'port_busy'
          : 'provision_failed';
    throw new FlashError(code, f.message, f.hint);
  }
}

/** An open provisioning port, watched for vanishing; `close()` belongs in `finally`. */
export interface ProvisionSession {
  link: SerialLink;
  /** Races `p` against the port vanishing, which rejects with FlashError('port_vanished'). */
  guarded<T>(p: Promise<T>): Promise<T>;
  /** Stops watching and closes the port, ignoring close errors. */
  close(): Promise<void>;
}

/**
 * Reports "opening <path>" and opens the port at `baud` (default 115200) the way every provisioner
 * does: open failures are port_not_found / port_busy FlashErrors, a later unplug rejects guarded().
 */
export async function openProvisionSession(
  opts: { path: string; baud?: number },
  report?: ProvisionReport,
): Promise<ProvisionSession> {
  step(report, `opening ${opts.path}`);
  const link = await openProvisionLink(opts.path, opts.baud ?? DEFAULT_PROVISION_BAUD);
  const gone = untilClosed(link);
  return {
    link,
    guarded: <T>(p: Promise<T>): Promise<T> => Promise.race([p, gone.promise]),
    async close() {
      gone.dispose();
      await closeQuietly(link);
    },
  };
}

/** Closes the link, ignoring errors (cleanup in `finally`). */
export async function closeQuietly(link: SerialLink | null): Promise<void> {
  if (!link) return;
  try {
    await link.close();
  } catch {
    // Already gone.
  }
}

/** Rejects with FlashError('port_vanished') when the link closes before `promise` settles. */
export function untilClosed(link: SerialLink): { promise: Promise<never>; dispose(): void } {
  let onClose: ((info: { message: string }) => void) | null = null;
  const promise = new Promise<never>((_, reject) => {
    onClose = (info) =>
      reject(new FlashError('port_vanished', info.message, 'Reconnect the board and try again.'));
    link.once('close', onClose);
  });
  // Nobody may be awaiting it when the link closes normally in `finally`.
  promise.catch(() => {});
  return {
    promise,
    dispose() {
      if (onClose) link.off('close', onClose);
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

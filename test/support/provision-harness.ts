/**
 * Setup shared by the provisioning integration tests (with ./cleanups): a pty pair with a simulated device on its `a` end, a host-side SerialLink on `b`, and a helper that
 * asserts a promise rejects with a FlashError.
 */
import { expect } from 'vitest';
import { SerialLink } from '../../src/main/flasher/monitor/serial-link';
import { FlashError } from '../../src/shared/flash-state';
import { ptyPairFor, type Cleanups } from './cleanups';
import type { PtyPair } from './pty-pair';

/** A pty pair with the peer `start(pair.a)` on the simulator side; both are cleaned up. */
export async function peerOnPty<P extends { stop(): Promise<void> }>(
  cleanups: Cleanups,
  start: (path: string) => Promise<P>,
): Promise<{ pair: PtyPair; peer: P }> {
  const pair = await ptyPairFor(cleanups);
  const peer = await start(pair.a);
  cleanups.push(() => peer.stop());
  return { pair, peer };
}

export async function openLinkFor(cleanups: Cleanups, path: string): Promise<SerialLink> {
  const link = await SerialLink.open({ path, baud: 115200 });
  cleanups.push(() => link.close());
  return link;
}

export async function flashErrorOf(p: Promise<unknown>): Promise<FlashError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(FlashError);
    return e as FlashError;
  }
  throw new Error('expected a FlashError');
}

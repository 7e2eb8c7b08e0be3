/**
 * The cleanup stack the integration tests share: each test pushes what it opened, and everything
 * is undone newest first after the test, errors ignored, so one failure cannot leak ptys,
 * processes or ports into the next test.
 */
import { afterEach } from 'vitest';
import { openPtyPair, type PtyPair } from './pty-pair';

export type Cleanups = (() => Promise<void>)[];

/** Call at the top level of a test file: the returned stack is emptied after every test. */
export function useCleanups(): Cleanups {
  const cleanups: Cleanups = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!().catch(() => {});
  });
  return cleanups;
}

/** A socat pty pair closed after the test. */
export async function ptyPairFor(cleanups: Cleanups): Promise<PtyPair> {
  const pair = await openPtyPair();
  cleanups.push(() => pair.close());
  return pair;
}

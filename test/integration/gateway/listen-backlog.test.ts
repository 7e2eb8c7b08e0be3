/**
 * The listen backlog (config `limits.listenBacklog`, issue 11): Node's default 511 overflowed in a
 * connect storm and every refused handshake waited for a TCP retry. Linux shows a listening
 * socket's backlog as its Send-Q in `ss -lnt`; the kernel caps it at net.core.somaxconn.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../../src/main/config';
import { startTestHub } from '../../support/hub-harness';

function listenBacklogOf(port: number): number | null {
  let out: string;
  try {
    out = execFileSync('ss', ['-Hlnt', `sport = :${port}`], { encoding: 'utf8' });
  } catch {
    return null; // no ss here
  }
  const cols = out.trim().split(/\s+/);
  return cols[2] === undefined ? null : Number(cols[2]);
}

function somaxconn(): number {
  try {
    return Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim());
  } catch {
    return Infinity;
  }
}

describe('listen backlog (limits.listenBacklog)', () => {
  it.runIf(process.platform === 'linux')(
    'the HTTP listener uses the configured backlog, by default far above Node’s 511',
    async () => {
      expect(DEFAULT_LIMITS.listenBacklog).toBeGreaterThanOrEqual(4096);
      for (const backlog of [DEFAULT_LIMITS.listenBacklog, 700]) {
        const t = await startTestHub({ limits: { listenBacklog: backlog } });
        try {
          const port = Number(new URL(t.http).port);
          const seen = listenBacklogOf(port);
          if (seen === null) return; // ss missing: nothing to read
          expect(seen).toBe(Math.min(backlog, somaxconn()));
        } finally {
          await t.stop();
        }
      }
    },
  );
});

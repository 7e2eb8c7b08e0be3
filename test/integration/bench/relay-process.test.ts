/**
 * The minimal relay as a child process (bench/relay-process.ts, used by relay-storm.ts and
 * rpc-vs-relay.ts): it listens, counts device sockets, and a start that fails leaves no child.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  relayOnline,
  startRelayProcess,
  waitRelayOnline,
  type RelayProcess,
} from '../../../bench/relay-process';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function devicesFile(lines: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fb-relay-test-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'devices.txt');
  writeFileSync(file, lines);
  return file;
}

async function start(file: string): Promise<RelayProcess> {
  const relay = await startRelayProcess({ devicesFile: file, startTimeoutMs: 20_000 });
  cleanups.push(async () => void (await relay.child.stop()));
  return relay;
}

describe('bench relay process', () => {
  it('counts the devices connected to its device URL', async () => {
    const relay = await start(devicesFile('dev-a tok-a\ndev-b tok-b\n'));
    expect(relay.deviceUrl).toBe(`${relay.http.replace(/^http/, 'ws')}/api/v2/rpc`);
    expect(await relayOnline(relay.http)).toBe(0);
    const ws = new WebSocket(relay.deviceUrl, { headers: { authorization: 'Bearer tok-a' } });
    cleanups.push(() => ws.terminate());
    await waitRelayOnline(relay.http, 1, 10_000, 20);
    expect(await relayOnline(relay.http)).toBe(1);
    // Not every device: the wait gives up at its bound and says how many were there.
    await expect(waitRelayOnline(relay.http, 2, 100, 20)).rejects.toThrow(
      'relay: 1 of 2 devices connected after 100 ms',
    );
  });

  it('a relay that cannot start is stopped and the start rejects', async () => {
    await expect(
      startRelayProcess({ devicesFile: '/nonexistent/devices.txt', startTimeoutMs: 20_000 }),
    ).rejects.toThrow(/relay exited/);
  });
});

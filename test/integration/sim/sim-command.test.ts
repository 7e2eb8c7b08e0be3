import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { httpBaseFromWs, runSimCommand, type SimRun } from '../../../src/main/sim/sim-command';
import { HubError } from '../../../src/shared/errors';
import { FakeHub } from '../../support/fake-hub';

let hub: FakeHub | null = null;
let run: SimRun | null = null;
const dir = mkdtempSync(join(tmpdir(), 'fb-sim-cmd-'));

afterEach(async () => {
  await run?.stop();
  await hub?.stop();
  run = null;
  hub = null;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function waitUntil(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function rejection(p: Promise<unknown>): Promise<HubError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(HubError);
    return e as HubError;
  }
  throw new Error('expected a rejection');
}

/** A port nothing listens on: bind, read it, close. */
async function deadPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('runSimCommand', () => {
  it('derives the REST base from the device URL', () => {
    expect(httpBaseFromWs('ws://10.0.0.2:8009/api/v2/rpc?x=1')).toBe('http://10.0.0.2:8009');
    expect(httpBaseFromWs('wss://hub.local/api/v2/rpc')).toBe('https://hub.local');
  });

  it('with apiKey: creates devices through POST /api/v2/devices and connects them with their tokens', async () => {
    hub = new FakeHub({ apiKey: 'master-key' });
    await hub.start();
    const lines: string[] = [];
    run = await runSimCommand(
      { url: hub.url, count: 12, apiKey: 'master-key', progressIntervalMs: 0 },
      (l) => lines.push(l),
    );
    expect(hub.created.map((d) => d.name).sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `sim-${i + 1}`).sort(),
    );
    await waitUntil(() => run!.stats().ready === 12);
    expect(new Set(hub.sessions.map((s) => s.deviceId))).toEqual(
      new Set(hub.created.map((d) => d.id)),
    );
    expect(hub.sessions.every((s) => s.headers.authorization?.startsWith('Bearer '))).toBe(true);
    // Each device reports the id the hub gave it.
    await waitUntil(() => hub!.sessions.every((s) => s.info !== null));
    for (const s of hub.sessions) expect(s.info?.id).toBe(s.deviceId);
    await waitUntil(() => lines.some((l) => l.startsWith('all 12 devices ready')));
    expect(lines).toContain('created 12/12 devices on ' + hub.httpUrl);
    expect(lines).toContain(`connecting 12 simulated devices to ${hub.url}`);
    expect(lines.find((l) => l.startsWith('all 12'))).toMatch(/p50 \d+ ms, p95 \d+ ms/);
  });

  it('family mixed alternates Mongoose OS and Arduino; faultShare gives the faults to a share', async () => {
    hub = new FakeHub({ apiKey: 'master-key' });
    await hub.start();
    run = await runSimCommand(
      {
        url: hub.url,
        count: 8,
        apiKey: 'master-key',
        progressIntervalMs: 0,
        family: 'mixed',
        otaRebootDelayMs: 10,
        faults: { otaRollback: true },
        faultShare: 0.25,
      },
      () => undefined,
    );
    await waitUntil(() => run!.stats().ready === 8);
    const devices = run.fleet.devices;
    expect(devices.map((d) => d.core.family)).toEqual([
      'mos',
      'arduino',
      'mos',
      'arduino',
      'mos',
      'arduino',
      'mos',
      'arduino',
    ]);
    expect(devices.map((d) => d.core.otaFaults.otaRollback === true)).toEqual([
      false,
      false,
      false,
      true,
      false,
      false,
      false,
      true,
    ]);
    await waitUntil(() => hub!.sessions.every((s) => s.info !== null));
    const arch = new Map(hub.sessions.map((s) => [s.deviceId, s.info?.arch]));
    expect(devices.map((d) => arch.get(d.id))).toEqual([
      'sim',
      'esp32',
      'sim',
      'esp32',
      'sim',
      'esp32',
      'sim',
      'esp32',
    ]);
  });

  it('a wrong API key is a coded 401 error naming the hub; nothing is connected', async () => {
    hub = new FakeHub({ apiKey: 'right' });
    await hub.start();
    const e = await rejection(
      runSimCommand({ url: hub.url, count: 3, apiKey: 'wrong' }, () => undefined),
    );
    expect(e.code).toBe(401);
    expect(e.message).toContain('refused the API key (HTTP 401)');
    expect(e.message).toContain(hub.httpUrl);
    expect(hub.created).toHaveLength(0);
    expect(hub.attempts).toHaveLength(0);
  });

  it('an unreachable hub is a clear error', async () => {
    const port = await deadPort();
    const e = await rejection(
      runSimCommand(
        { url: `ws://127.0.0.1:${port}/api/v2/rpc`, count: 1, apiKey: 'k' },
        () => undefined,
      ),
    );
    expect(e.message).toBe(`cannot reach the hub at http://127.0.0.1:${port}: ECONNREFUSED`);
  });

  it('with passwordsFile: one password per line, blank lines and # comments skipped', async () => {
    hub = new FakeHub({ devices: { p1: 'a', p2: 'b', p3: 'c' } });
    await hub.start();
    const file = join(dir, 'pw.txt');
    writeFileSync(file, '# sim devices\np1\n\np2\r\np3\n');
    run = await runSimCommand(
      { url: hub.url, count: 2, passwordsFile: file, authMode: 'query' },
      () => undefined,
    );
    await waitUntil(() => run!.stats().ready === 2);
    expect(hub.sessions.map((s) => s.deviceId).sort()).toEqual(['a', 'b']);
    await run.stop();
    run = await runSimCommand({ url: hub.url, count: 0, passwordsFile: file }, () => undefined);
    await waitUntil(() => run!.stats().ready === 3);
  });

  it('bad files and bad options are coded errors', async () => {
    const url = 'ws://127.0.0.1:1/api/v2/rpc';
    const missing = await rejection(
      runSimCommand({ url, count: 1, passwordsFile: join(dir, 'nope.txt') }, () => undefined),
    );
    expect(missing.message).toMatch(/cannot read passwords file .*nope\.txt: ENOENT/);
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '\n# nothing\n');
    expect(
      (await rejection(runSimCommand({ url, count: 1, passwordsFile: empty }, () => undefined)))
        .message,
    ).toMatch(/no passwords/);
    const short = join(dir, 'short.txt');
    writeFileSync(short, 'a\nb\n');
    expect(
      (await rejection(runSimCommand({ url, count: 5, passwordsFile: short }, () => undefined)))
        .message,
    ).toMatch(/has 2 passwords, 5 devices asked for/);
    const spaced = join(dir, 'spaced.txt');
    writeFileSync(spaced, 'a b\n');
    expect(
      (await rejection(runSimCommand({ url, count: 1, passwordsFile: spaced }, () => undefined)))
        .message,
    ).toMatch(/spaces/);
    expect((await rejection(runSimCommand({ url, count: 1 }, () => undefined))).message).toMatch(
      /exactly one of/,
    );
    expect(
      (await rejection(runSimCommand({ url: 'http://x/', count: 1, apiKey: 'k' }, () => undefined)))
        .message,
    ).toMatch(/ws:\/\/ or wss:\/\//);
    const neg = await rejection(runSimCommand({ url, count: -1, apiKey: 'k' }, () => undefined));
    expect(neg.code).toBe(4002);
    expect(
      (await rejection(runSimCommand({ url, count: 0, apiKey: 'k' }, () => undefined))).message,
    ).toMatch(/at least 1/);
  });
});

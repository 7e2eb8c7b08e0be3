/**
 * Issue 12, "truly offline", as a device on a LAN with no internet sees it. Run INSIDE a network
 * namespace that has only `lo` (test/integration/lan/offline-lan.test.ts starts it with
 * `unshare -n -m`, adds 8.8.8.8 to `lo` and bind-mounts a resolv.conf naming 8.8.8.8, which is what
 * a router rule redirecting UDP 53 to the hub amounts to). Then, with real clients only:
 *
 * 1. `fleetbench serve --lan-services` binds the real ports 53 and 123;
 * 2. `dig @8.8.8.8 time.google.com` gets the hub's address, as the mDash library's resolver would;
 *    a name the hub does not own is refused (nothing reaches the internet);
 * 3. `ntpdig time.google.com` (resolving through the system resolver, i.e. through the hub) gets
 *    the time from the hub's SNTP server;
 * 4. `fleetbench sim` connects to `ws://mdash.net:PORT/api/v2/rpc` (the name resolved by the hub)
 *    and the device is online in the REST API.
 *
 * Prints one JSON line `{"result": ...}` with what each step saw; the test asserts on it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli, startCli, stopChild } from './cli-runner';

const run = promisify(execFile);
const PORT = 8009;

async function tryRun(cmd: string, args: string[]): Promise<{ out: string; code: number }> {
  try {
    const { stdout } = await run(cmd, args, { timeout: 15_000 });
    return { out: stdout.trim(), code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { out: `${e.stdout ?? ''}${e.stderr ?? ''}`.trim(), code: e.code ?? 1 };
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fb-offline-'));
  const dataDir = join(dir, 'data');
  const result: Record<string, unknown> = {};
  const added = await runCli(['devices', 'add', '--id', 'field-1', '--data-dir', dataDir]);
  const token = (JSON.parse(added.stdout) as { token: string }).token;
  const passwords = join(dir, 'passwords.txt');
  writeFileSync(passwords, `${token}\n`, { mode: 0o600 });

  const hub = await startCli(
    [
      'serve',
      '--host',
      '0.0.0.0',
      '--port',
      String(PORT),
      '--tls-port',
      'off',
      '--no-mdns',
      '--data-dir',
      dataDir,
      '--lan-services',
      '--sntp-port',
      '123',
      '--dns-port',
      '53',
    ],
    /master key: (\S+)/,
    {},
    30_000,
  );
  const key = hub.match[1] ?? '';
  let sim: Awaited<ReturnType<typeof startCli>> | null = null;
  try {
    result.dns = await tryRun('dig', ['@8.8.8.8', 'time.google.com', 'A', '+short', '+time=3']);
    result.refused = await tryRun('dig', ['@8.8.8.8', 'example.com', 'A', '+time=3']);
    result.ntp = await tryRun('ntpdig', ['-j', '-t', '5', 'time.google.com']);
    sim = await startCli(
      [
        'sim',
        '--url',
        `ws://mdash.net:${PORT}/api/v2/rpc`,
        '--passwords',
        passwords,
        '--count',
        '0',
        '--stats-interval',
        '500',
      ],
      /ready[^0-9]*1\b|1 ready|connected[^0-9]*1\b/i,
      {},
      20_000,
    );
    const res = await fetch(`http://127.0.0.1:${PORT}/api/v2/devices/field-1`, {
      headers: { authorization: `Bearer ${key}` },
    });
    result.device = await res.json();
    const lan = await fetch(`http://127.0.0.1:${PORT}/api/v2/lan`, {
      headers: { authorization: `Bearer ${key}` },
    });
    result.lan = await lan.json();
  } catch (err) {
    result.error = String(err);
  } finally {
    if (sim) await stopChild(sim.child);
    await stopChild(hub.child);
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify({ result }));
}

void main();

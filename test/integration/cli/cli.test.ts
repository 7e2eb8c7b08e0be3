import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawDevice, openNotify, startTestHub, waitFor } from '../../support/hub-harness';
import { runCli, startCli, stopChild } from '../../support/cli-runner';

describe('fleetbench CLI', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fb-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serve: first start creates the data dir and key, prints URLs; keys and devices work on the running hub', async () => {
    const dataDir = join(dir, 'hub');
    const { child, output } = await startCli(
      ['serve', '--host', '127.0.0.1', '--port', '0', '--tls-port', '0', '--data-dir', dataDir],
      /local CA: .*\n/,
    );
    try {
      const out = output();
      expect(out).toContain('created its data dir');
      expect(out).toMatch(/TLS device: wss:\/\/\S+:\d+\/api\/v2\/rpc/);
      expect(out).toMatch(/local CA:\s+\S+ca\.pem/);
      const key = /master key: (\S+)/.exec(out)?.[1] ?? '';
      const http = /REST API:\s+(\S+)\/api\/v2/.exec(out)?.[1] ?? '';
      expect(/dashboard:\s+(\S+)#key=(\S+)/.exec(out)?.[2]).toBe(key);
      expect(readFileSync(join(dataDir, 'master.key'), 'utf8').trim()).toBe(key);
      expect(statSync(join(dataDir, 'master.key')).mode & 0o777).toBe(0o600);
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);

      const res = await fetch(`${http}/api/v2/devices`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(res.status).toBe(200);

      // A device added by the CLI while the hub runs can connect at once.
      const added = await runCli(['devices', 'add', '--name', 'bench-1', '--data-dir', dataDir]);
      expect(added.code).toBe(0);
      const dev = JSON.parse(added.stdout) as { id: string; token: string; name: string };
      expect(dev.name).toBe('bench-1');
      const d = await RawDevice.connect(`${http.replace('http', 'ws')}/api/v2/rpc`, {
        headers: { authorization: `Bearer ${dev.token}` },
      });
      await d.answerGetInfo();
      d.close();

      // A key created by the CLI works against the running hub; deleting it revokes it.
      const created = await runCli(['keys', 'create', '--data-dir', dataDir]);
      const k = JSON.parse(created.stdout) as { id: string; key: string };
      expect(
        (await fetch(`${http}/api/v2/keys`, { headers: { authorization: `Bearer ${k.key}` } }))
          .status,
      ).toBe(200);
      const listed = JSON.parse((await runCli(['keys', 'list', '--data-dir', dataDir])).stdout) as {
        id: string;
      }[];
      expect(listed.map((x) => x.id)).toContain(k.id);
      expect(JSON.stringify(listed)).not.toContain(k.key);
      expect((await runCli(['keys', 'delete', k.id, '--data-dir', dataDir])).code).toBe(0);
      expect(
        (await fetch(`${http}/api/v2/keys`, { headers: { authorization: `Bearer ${k.key}` } }))
          .status,
      ).toBe(401);
    } finally {
      expect(await stopChild(child)).toBe(0);
    }
    // Second start reuses the key and says nothing about creating it.
    const again = await startCli(
      ['serve', '--host', '127.0.0.1', '--port', '0', '--tls-port', '0', '--data-dir', dataDir],
      /device URL/,
    );
    expect(again.output()).not.toContain('created its data dir');
    await stopChild(again.child);
  });

  it('devices add/list/remove print JSON', async () => {
    const dataDir = join(dir, 'devs');
    const a = JSON.parse(
      (await runCli(['devices', 'add', '--id', 'dev-a', '--data-dir', dataDir])).stdout,
    ) as { id: string };
    expect(a.id).toBe('dev-a');
    const list = JSON.parse((await runCli(['devices', 'list', '--data-dir', dataDir])).stdout) as {
      id: string;
      online: boolean;
    }[];
    expect(list).toHaveLength(1);
    expect(list[0]?.online).toBe(false);
    expect(
      (await runCli(['devices', 'remove', 'dev-a', '--data-dir', dataDir])).stdout.trim(),
    ).toBe('true');
    expect(JSON.parse((await runCli(['devices', 'list', '--data-dir', dataDir])).stdout)).toEqual(
      [],
    );
  });

  it('errors are one clear line and a non-zero exit', async () => {
    const dataDir = join(dir, 'errs');
    const cases: [string[], RegExp][] = [
      [
        ['devices', 'remove', 'nope', '--data-dir', dataDir],
        /^fleetbench: error: no Fleetbench data in/,
      ],
      [['devices', 'add', '--id', 'bad id!', '--data-dir', dataDir], /^fleetbench: error: id: /],
      [
        ['serve', '--port', 'abc', '--data-dir', dataDir],
        /^fleetbench: error: invalid --port 'abc'/,
      ],
      [['frobnicate'], /unknown command 'frobnicate'/],
    ];
    for (const [args, re] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr.split('\n')[0], args.join(' ')).toMatch(re);
    }
    await runCli(['devices', 'add', '--id', 'x1', '--data-dir', dataDir]);
    const dup = await runCli(['devices', 'add', '--id', 'x1', '--data-dir', dataDir]);
    expect(dup.code).toBe(1);
    expect(dup.stderr.trim()).toMatch(/^fleetbench: error: device 'x1' exists \(code 4092\)$/);
    const missing = await runCli(['devices', 'remove', 'x2', '--data-dir', dataDir]);
    expect(missing.stderr.trim()).toBe("fleetbench: error: no device 'x2'");
  });

  it('every command has --help', async () => {
    for (const args of [
      [],
      ['serve'],
      ['keys'],
      ['keys', 'create'],
      ['devices'],
      ['devices', 'add'],
      ['sim'],
      ['ports'],
      ['flash'],
      ['monitor'],
      ['bench'],
    ]) {
      const r = await runCli([...args, '--help']);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toContain('Usage: fleetbench');
    }
  });

  it('sim: creates devices through the REST API and brings them online', async () => {
    const t = await startTestHub();
    try {
      const notify = await openNotify(t);
      const r = await runCli(
        [
          'sim',
          '--url',
          `${t.ws}/api/v2/rpc`,
          '--count',
          '5',
          '--api-key',
          t.key,
          '--duration',
          '2',
          '--stats-interval',
          '0',
        ],
        {},
        30_000,
      );
      expect(r.code, r.stderr).toBe(0);
      const online = new Set(notify.events.filter((n) => n.name === 'online').map((n) => n.id));
      expect(online.size).toBe(5);
      // They went offline when the command stopped.
      await waitFor(() => t.hub.services().gateway.onlineCount === 0);
      notify.ws.close();
      const bad = await runCli([
        'sim',
        '--url',
        `${t.ws}/api/v2/rpc`,
        '--count',
        '1',
        '--api-key',
        'wrong',
        '--duration',
        '1',
      ]);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr.split('\n')[0]).toMatch(/^fleetbench: error: .*401/);
    } finally {
      await t.stop();
    }
  });

  it('serve --demo N runs a live simulated fleet', async () => {
    const dataDir = join(dir, 'demo');
    const { child, output } = await startCli(
      [
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--tls-port',
        '0',
        '--data-dir',
        dataDir,
        '--demo',
        '3',
      ],
      /demo fleet: 3/,
    );
    try {
      const key = /master key: (\S+)/.exec(output())?.[1] ?? '';
      const http = /REST API:\s+(\S+)\/api\/v2/.exec(output())?.[1] ?? '';
      await waitFor(
        async () => {
          const res = await fetch(`${http}/api/v2/devices`, {
            headers: { authorization: `Bearer ${key}` },
          });
          const list = (await res.json()) as { id: string; online: boolean }[];
          return list.length === 3 && list.every((d) => d.online);
        },
        15_000,
        'three demo devices online',
      );
      // Their readings have a data_write query to land in (issue 9, sim-sensors.ts).
      const res = await fetch(`${http}/api/v2/devices/demo-1`, {
        headers: { authorization: `Bearer ${key}` },
      });
      const dev = (await res.json()) as { acl: { data_write?: Record<string, string> } };
      expect(dev.acl.data_write?.['telemetry']).toMatch(/^INSERT INTO data/);
    } finally {
      await stopChild(child);
    }
  });
});

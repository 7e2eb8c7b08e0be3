/**
 * scripts/install-plan.js: the up-front answer to "can Electron's binary be fetched?" that lets
 * scripts/install-and-start.sh install once. The URL and cache path are checked against
 * @electron/get itself (what electron's postinstall uses), the probe against real local HTTP
 * servers, and the script end to end with a mirror that answers and one that refuses.
 */
import { execFile } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

type Env = Record<string, string | undefined>;
type Probe = { ok: true } | { ok: false; reason: string };
type Plan = { probe: string } | { skipBinary: boolean; line: string };
interface Facts {
  env: Env;
  version: string | null;
  installed: boolean;
  cachedZip: string | null;
  url: string;
  probe: Probe | undefined;
}
interface InstallPlanModule {
  EXIT_SKIP_BINARY: number;
  electronVersionFromLock(lockText: string): string | null;
  electronArtifact(
    env: Env,
    version: string,
    platform: string,
    arch: string,
  ): { fileName: string; url: string };
  defaultCacheRoot(env: Env, platform?: string, home?: string): string;
  cachedZipPath(
    env: Env,
    root: string,
    artifact: { fileName: string; url: string },
    platform?: string,
  ): string;
  planInstall(facts: Facts): Plan;
  probeUrl(url: string, timeoutMs?: number): Promise<Probe>;
}
interface ElectronGet {
  getArtifactRemoteURL(details: {
    version: string;
    artifactName: string;
    platform: string;
    arch: string;
  }): Promise<string>;
}
interface ElectronCache {
  Cache: new (root?: string) => {
    cacheRoot: string;
    getCachePath(url: string, file: string): string;
  };
}

const ROOT = join(import.meta.dirname, '..', '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'install-plan.js');
const requireFromRoot = createRequire(join(ROOT, 'package.json'));
const artifactUtils = requireFromRoot('@electron/get/dist/cjs/artifact-utils') as ElectronGet;
const electronCache = requireFromRoot('@electron/get/dist/cjs/Cache') as ElectronCache;

let plan: InstallPlanModule;
beforeAll(async () => {
  plan = (await import(/* @vite-ignore */ pathToFileURL(SCRIPT).href)) as InstallPlanModule;
});

const base: Facts = {
  env: {},
  version: '40.10.2',
  installed: false,
  cachedZip: null,
  url: 'https://github.com/electron/electron/releases/download/v40.10.2/electron-v40.10.2-linux-x64.zip',
  probe: undefined,
};

function decided(p: Plan): { skipBinary: boolean; line: string } {
  if ('probe' in p) throw new Error(`expected a decision, got a probe of ${p.probe}`);
  expect(p.line).not.toContain('\n');
  return p;
}

describe('planInstall', () => {
  it('asks for a probe of the download URL when nothing else decides', () => {
    expect(plan.planInstall(base)).toEqual({ probe: base.url });
  });

  it('installs once without the binary when the probe fails, saying why in one line', () => {
    const p = decided(
      plan.planInstall({ ...base, probe: { ok: false, reason: 'host not found (ENOTFOUND)' } }),
    );
    expect(p.skipBinary).toBe(true);
    expect(p.line).toContain('cannot be downloaded');
    expect(p.line).toContain('github.com');
    expect(p.line).toContain('ENOTFOUND');
  });

  it('installs with the binary when the probe succeeds', () => {
    const p = decided(plan.planInstall({ ...base, probe: { ok: true } }));
    expect(p.skipBinary).toBe(false);
    expect(p.line).toContain('can be downloaded');
  });

  it('needs no probe when the binary is installed or its zip is cached', () => {
    expect(decided(plan.planInstall({ ...base, installed: true })).skipBinary).toBe(false);
    const cached = decided(plan.planInstall({ ...base, cachedZip: '/c/electron.zip' }));
    expect(cached.skipBinary).toBe(false);
    expect(cached.line).toContain('/c/electron.zip');
  });

  it('honours ELECTRON_SKIP_BINARY_DOWNLOAD, and does not probe around a proxy', () => {
    const skip = plan.planInstall({ ...base, env: { ELECTRON_SKIP_BINARY_DOWNLOAD: '1' } });
    expect(decided(skip).skipBinary).toBe(true);
    const proxy = plan.planInstall({ ...base, env: { ELECTRON_GET_USE_PROXY: '1' } });
    expect(decided(proxy).skipBinary).toBe(false);
  });

  it('tries the full install when the lock does not name Electron', () => {
    expect(decided(plan.planInstall({ ...base, version: null })).skipBinary).toBe(false);
  });
});

describe('what electron’s installer would fetch', () => {
  const saved: Env = {};
  const vars = [
    'ELECTRON_MIRROR',
    'ELECTRON_CUSTOM_DIR',
    'ELECTRON_CUSTOM_FILENAME',
    'npm_config_electron_mirror',
  ];
  beforeAll(() => {
    for (const k of vars) saved[k] = process.env[k];
  });
  afterEach(() => {
    for (const k of vars) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it('reads the version package-lock.json pins', () => {
    const lock = readFileSync(join(ROOT, 'package-lock.json'), 'utf8');
    const pkg = JSON.parse(
      readFileSync(join(ROOT, 'node_modules', 'electron', 'package.json'), 'utf8'),
    ) as { version: string };
    expect(plan.electronVersionFromLock(lock)).toBe(pkg.version);
    expect(plan.electronVersionFromLock('{ not json')).toBeNull();
    expect(plan.electronVersionFromLock('{"packages":{}}')).toBeNull();
  });

  const cases: { name: string; env: Env }[] = [
    { name: 'the official release URL', env: {} },
    {
      name: 'ELECTRON_MIRROR',
      env: { ELECTRON_MIRROR: 'https://npmmirror.com/mirrors/electron/' },
    },
    {
      name: 'npm config over ELECTRON_MIRROR, with a custom dir',
      env: {
        ELECTRON_MIRROR: 'https://ignored.example/',
        npm_config_electron_mirror: 'http://mirror.lan:8080/e/',
        ELECTRON_CUSTOM_DIR: '{{ version }}',
      },
    },
    { name: 'a custom file name', env: { ELECTRON_CUSTOM_FILENAME: 'electron-linux.zip' } },
  ];
  for (const c of cases) {
    it(`builds the same URL as @electron/get: ${c.name}`, async () => {
      for (const k of vars) delete process.env[k];
      Object.assign(process.env, c.env);
      const expected = await artifactUtils.getArtifactRemoteURL({
        version: 'v40.10.2',
        artifactName: 'electron',
        platform: 'linux',
        arch: 'x64',
      });
      expect(plan.electronArtifact(c.env, '40.10.2', 'linux', 'x64').url).toBe(expected);
    });
  }

  it('looks for the zip where @electron/get caches it', () => {
    const artifact = plan.electronArtifact({}, '40.10.2', 'linux', 'x64');
    const mirrored = plan.electronArtifact(
      { ELECTRON_MIRROR: 'http://user:pw@mirror.lan:8080/e/' },
      '40.10.2',
      'linux',
      'x64',
    );
    for (const a of [artifact, mirrored]) {
      const expected = new electronCache.Cache('/tmp/ecache').getCachePath(a.url, a.fileName);
      expect(plan.cachedZipPath({ electron_config_cache: '/tmp/ecache' }, ROOT, a)).toBe(expected);
    }
    // Default root: env-paths as @electron/get computed it for this process's environment.
    expect(plan.defaultCacheRoot(process.env)).toBe(new electronCache.Cache().cacheRoot);
  });
});

describe('probeUrl and the script', () => {
  let server: Server;
  let silent: Server;
  let url: string;
  let silentUrl: string;
  let tmp: string;

  function listen(s: Server): Promise<string> {
    return new Promise((ok) =>
      s.listen(0, '127.0.0.1', () => ok(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)),
    );
  }

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'fb-install-plan-'));
    // Like GitHub: the release URL redirects to the file; the file honours the byte range.
    server = createServer((req, res) => {
      if (req.url?.endsWith('.zip') === true && req.url.startsWith('/mirror/')) {
        res.writeHead(302, { location: `/files${req.url}` }).end();
      } else if (req.url?.startsWith('/files/') === true) {
        res.writeHead(req.headers.range === 'bytes=0-0' ? 206 : 200).end('P');
      } else {
        res.writeHead(404).end();
      }
    });
    silent = createServer(() => {
      // Accepts and never answers: a black-holed mirror.
    });
    url = await listen(server);
    silentUrl = await listen(silent);
  });

  afterAll(async () => {
    silent.closeAllConnections();
    await new Promise((ok) => silent.close(ok));
    await new Promise((ok) => server.close(ok));
    rmSync(tmp, { recursive: true, force: true });
  });

  it('follows a redirect to the file', async () => {
    expect(await plan.probeUrl(`${url}/mirror/v1/electron.zip`)).toEqual({ ok: true });
  });

  it('reports a missing file, a refused connection and a silent server', async () => {
    expect(await plan.probeUrl(`${url}/nothing/electron.zip`)).toEqual({
      ok: false,
      reason: 'HTTP 404',
    });
    const closed = createServer();
    const closedUrl = await listen(closed);
    await new Promise((ok) => closed.close(ok));
    expect(await plan.probeUrl(`${closedUrl}/e.zip`)).toEqual({
      ok: false,
      reason: 'connection refused',
    });
    const started = Date.now();
    expect(await plan.probeUrl(`${silentUrl}/e.zip`, 200)).toEqual({
      ok: false,
      reason: 'no answer within 0.2 s',
    });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('answers file: mirrors by looking at the file', async () => {
    const zip = join(tmp, 'v1', 'e.zip');
    mkdirSync(dirname(zip), { recursive: true });
    writeFileSync(zip, 'P');
    expect(await plan.probeUrl(pathToFileURL(zip).href)).toEqual({ ok: true });
    expect(await plan.probeUrl(pathToFileURL(join(tmp, 'none.zip')).href)).toMatchObject({
      ok: false,
    });
  });

  function runScript(env: Env): Promise<{ code: number; stdout: string }> {
    return new Promise((ok) => {
      execFile(
        process.execPath,
        [SCRIPT],
        { cwd: ROOT, env: { ...process.env, electron_config_cache: join(tmp, 'cache'), ...env } },
        (err, stdout) => ok({ code: err ? Number(err.code) : 0, stdout }),
      );
    });
  }

  it('runs end to end: one line, exit 0 when the mirror answers, 10 when it cannot', async () => {
    const yes = await runScript({ ELECTRON_MIRROR: `${url}/mirror/` });
    expect(yes.code).toBe(0);
    expect(yes.stdout.trim().split('\n')).toHaveLength(1);
    expect(yes.stdout).toContain('can be downloaded');

    const no = await runScript({ ELECTRON_MIRROR: `${url}/nothing/` });
    expect(no.code).toBe(plan.EXIT_SKIP_BINARY);
    expect(no.stdout.trim().split('\n')).toHaveLength(1);
    expect(no.stdout).toContain('HTTP 404');
  });

  it('install-and-start.sh installs once, without the binary, when the probe says no', async () => {
    // A copy of the project's scripts with no node_modules, and an npm that logs its calls and,
    // like an offline machine, fails `npm install` unless the Electron download is skipped.
    const clone = join(tmp, 'clone');
    mkdirSync(join(clone, 'scripts'), { recursive: true });
    for (const f of [
      'scripts/install-and-start.sh',
      'scripts/install-plan.js',
      'package-lock.json',
    ])
      copyFileSync(join(ROOT, f), join(clone, f));
    const bin = join(tmp, 'bin');
    mkdirSync(bin, { recursive: true });
    const log = join(tmp, 'npm.log');
    writeFileSync(
      join(bin, 'npm'),
      [
        '#!/usr/bin/env bash',
        'echo "$1 skip=${ELECTRON_SKIP_BINARY_DOWNLOAD:-}" >> "$FAKE_NPM_LOG"',
        'if [ "$1" = install ] && [ -z "${ELECTRON_SKIP_BINARY_DOWNLOAD:-}" ]; then exit 1; fi',
        '',
      ].join('\n'),
    );
    chmodSync(join(bin, 'npm'), 0o755);
    const run = await new Promise<{ code: number; stdout: string }>((ok) => {
      execFile(
        'bash',
        [join(clone, 'scripts', 'install-and-start.sh')],
        {
          env: {
            ...process.env,
            PATH: `${bin}:${process.env.PATH ?? ''}`,
            FAKE_NPM_LOG: log,
            ELECTRON_MIRROR: `${url}/nothing/`,
            electron_config_cache: join(tmp, 'cache'),
          },
        },
        (err, stdout) => ok({ code: err ? Number(err.code) : 0, stdout }),
      );
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('cannot be downloaded');
    const calls = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('config'));
    expect(calls).toEqual(['install skip=1', 'start skip=']);
  });
});

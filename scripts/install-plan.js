#!/usr/bin/env node
// Run by scripts/install-and-start.sh before `npm install`: finds out up front whether Electron's
// binary can be fetched, says so in one line, and exits 0 (install with it) or 10 (install with
// ELECTRON_SKIP_BINARY_DOWNLOAD=1). Without this, an offline machine ran the full install, failed in
// electron's postinstall with a wall of npm errors and installed a second time (issue 7 item 29).
//
// It runs on a fresh clone, before node_modules exists: Node built-ins only. The URL and cache
// location repeat what node_modules/electron/install.js does through @electron/get 2.x (mirror
// variables from the environment and npm config, the sha256-named cache folder); the unit test
// test/unit/shell/install-plan.test.ts checks them against @electron/get itself. The decision is a
// pure function (planInstall); the bottom of the file does the I/O.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** How long the reachability probe may take: a reachable mirror answers well inside this. */
export const PROBE_TIMEOUT_MS = 5000;
/** Exit status meaning "install with ELECTRON_SKIP_BINARY_DOWNLOAD=1". */
export const EXIT_SKIP_BINARY = 10;

const OFFICIAL_BASE = 'https://github.com/electron/electron/releases/download/';

/** Electron's version as package-lock.json pins it, or null (no lock, or no electron in it). */
export function electronVersionFromLock(lockText) {
  try {
    const lock = JSON.parse(lockText);
    const v = lock?.packages?.['node_modules/electron']?.version;
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}

/** @electron/get's mirrorVar: npm config (as npm exports it to scripts), package.json config, env. */
export function mirrorVar(env, name, defaultValue) {
  const snake = name.replace(/([a-z])([A-Z])/g, (_, a, b) => `${a}_${b}`).toLowerCase();
  return (
    env[`npm_config_electron_${name.toLowerCase()}`] ||
    env[`NPM_CONFIG_ELECTRON_${snake.toUpperCase()}`] ||
    env[`npm_config_electron_${snake}`] ||
    env[`npm_package_config_electron_${name}`] ||
    env[`npm_package_config_electron_${snake}`] ||
    env[`ELECTRON_${snake.toUpperCase()}`] ||
    defaultValue
  );
}

/** The platform and arch electron's installer downloads for (npm_config_* override the host). */
export function targetOf(env, platform = process.platform, arch = process.arch) {
  return { platform: env.npm_config_platform || platform, arch: env.npm_config_arch || arch };
}

/** The zip's file name and the URL electron's installer fetches it from. */
export function electronArtifact(env, version, platform, arch) {
  const v = mirrorVar(env, 'customVersion', version).replace(/^v?/, 'v');
  const fileName = `electron-${v}-${platform}-${arch}.zip`;
  const base = mirrorVar(env, 'mirror', OFFICIAL_BASE);
  const dir = mirrorVar(env, 'customDir', v).replace('{{ version }}', v.replace(/^v/, ''));
  const file = mirrorVar(env, 'customFilename', fileName);
  return { fileName, url: `${base}${dir}/${file}` };
}

/** env-paths 2 ('electron', no suffix), as @electron/get uses it when electron_config_cache is unset. */
export function defaultCacheRoot(env, platform = process.platform, home = homedir()) {
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'electron');
  if (platform === 'win32')
    return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'electron', 'Cache');
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'electron');
}

/** The cache folder for a download URL: sha256 of the URL without its file name, query or hash. */
export function cacheFolderFor(url) {
  const u = new URL(url);
  const auth = u.username ? `${u.username}${u.password ? `:${u.password}` : ''}@` : '';
  const stripped = `${u.protocol}//${auth}${u.host}${posix.dirname(u.pathname)}`;
  return createHash('sha256').update(stripped).digest('hex');
}

/** Where a cached zip for this download would be. install.js runs in node_modules/electron, so a
 * relative electron_config_cache is relative to that folder. */
export function cachedZipPath(env, root, artifact, platform = process.platform, home = homedir()) {
  const cacheRoot =
    env.electron_config_cache !== undefined
      ? env.electron_config_cache
      : defaultCacheRoot(env, platform, home);
  return resolve(
    join(root, 'node_modules', 'electron'),
    cacheRoot,
    cacheFolderFor(artifact.url),
    artifact.fileName,
  );
}

/** The executable path inside dist/, as electron's install.js names it (path.txt). */
export function platformPath(platform) {
  if (platform === 'darwin' || platform === 'mas') return 'Electron.app/Contents/MacOS/Electron';
  if (platform === 'win32') return 'electron.exe';
  return 'electron';
}

/** electron's own isInstalled(): this version's binary is already in node_modules/electron/dist. */
export function electronInstalled(root, version, platform, env) {
  const dir = join(root, 'node_modules', 'electron');
  try {
    if (readFileSync(join(dir, 'dist', 'version'), 'utf8').replace(/^v/, '') !== version)
      return false;
    if (readFileSync(join(dir, 'path.txt'), 'utf8') !== platformPath(platform)) return false;
  } catch {
    return false;
  }
  return existsSync(env.ELECTRON_OVERRIDE_DIST_PATH || join(dir, 'dist', platformPath(platform)));
}

/**
 * The decision, facts in, plan out. facts: { env, version, installed, cachedZip, url, probe }
 * where probe is undefined before probing, else { ok, reason }. Returns { probe: url } when it
 * needs the probe's answer, else { skipBinary, line }.
 */
export function planInstall(facts) {
  const { env, version, installed, cachedZip, url, probe } = facts;
  if (env.ELECTRON_SKIP_BINARY_DOWNLOAD)
    return {
      skipBinary: true,
      line: "ELECTRON_SKIP_BINARY_DOWNLOAD is set: installing without Electron's binary (headless hub + browser dashboard).",
    };
  if (version === null)
    return {
      skipBinary: false,
      line: "Electron's version is not in package-lock.json; trying the full install.",
    };
  if (installed) return { skipBinary: false, line: `Electron ${version} is already installed.` };
  if (cachedZip !== null)
    return {
      skipBinary: false,
      line: `Electron ${version} is in the download cache (${cachedZip}); installing with it.`,
    };
  // Through a proxy (global-agent) the probe below, which goes direct, would say nothing useful.
  if (env.ELECTRON_GET_USE_PROXY)
    return {
      skipBinary: false,
      line: `Electron ${version} downloads through a proxy (ELECTRON_GET_USE_PROXY); trying the full install.`,
    };
  if (probe === undefined) return { probe: url };
  let where = url;
  try {
    where = new URL(url).host || url;
  } catch {
    where = url;
  }
  if (probe.ok)
    return {
      skipBinary: false,
      line: `Electron ${version} can be downloaded (${where}); installing with the desktop app.`,
    };
  return {
    skipBinary: true,
    line:
      `Electron ${version} cannot be downloaded (${where}: ${probe.reason}); installing without it, ` +
      'so `npm start` runs the headless hub with the dashboard in your browser.',
  };
}

const NETWORK_ERRORS = {
  ENOTFOUND: 'host not found (ENOTFOUND)',
  EAI_AGAIN: 'no DNS answer (EAI_AGAIN)',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENETUNREACH: 'network unreachable',
  EHOSTUNREACH: 'host unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connect timeout',
};

/** Asks for the zip's first byte (some mirrors refuse HEAD), following redirects, within timeoutMs. */
export async function probeUrl(url, timeoutMs = PROBE_TIMEOUT_MS) {
  let u;
  try {
    u = new URL(url);
  } catch {
    return { ok: false, reason: 'not a valid URL' };
  }
  if (u.protocol === 'file:') {
    return existsSync(fileURLToPath(u)) ? { ok: true } : { ok: false, reason: 'no such file' };
  }
  try {
    const res = await fetch(url, {
      headers: { range: 'bytes=0-0' },
      redirect: 'follow',
      signal: globalThis.AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel().catch(() => {});
    return res.ok ? { ok: true } : { ok: false, reason: `HTTP ${res.status}` };
  } catch (err) {
    if (err?.name === 'TimeoutError')
      return { ok: false, reason: `no answer within ${timeoutMs / 1000} s` };
    const code = err?.cause?.code;
    if (typeof code === 'string') return { ok: false, reason: NETWORK_ERRORS[code] ?? code };
    return { ok: false, reason: String(err?.cause?.message ?? err?.message ?? 'network error') };
  }
}

/** The mirror settings from .npmrc files, as npm would export them to electron's install script. */
export function npmElectronConfig(root = ROOT) {
  const keys = ['electron_mirror', 'electron_custom_dir', 'electron_custom_filename'];
  const r = spawnSync('npm', ['config', 'get', ...keys], {
    cwd: root,
    encoding: 'utf8',
    timeout: 10_000,
    shell: process.platform === 'win32',
  });
  const out = {};
  if (r.status !== 0 || typeof r.stdout !== 'string') return out;
  for (const line of r.stdout.split('\n')) {
    const m = /^(electron_[a-z_]+)=(.*)$/.exec(line.trim());
    if (m && m[2] !== '' && m[2] !== 'undefined' && m[2] !== 'null')
      out[`npm_config_${m[1]}`] = m[2];
  }
  return out;
}

async function main() {
  // npm config first, so an explicit environment variable of npm's own form still wins.
  const env = { ...npmElectronConfig(), ...process.env };
  let version = null;
  try {
    version = electronVersionFromLock(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  } catch {
    version = null;
  }
  const { platform, arch } = targetOf(env);
  const artifact = version === null ? null : electronArtifact(env, version, platform, arch);
  const zip = artifact === null ? null : cachedZipPath(env, ROOT, artifact, platform);
  const facts = {
    env,
    version,
    installed: version !== null && electronInstalled(ROOT, version, platform, env),
    cachedZip: zip !== null && existsSync(zip) ? zip : null,
    url: artifact?.url ?? '',
    probe: undefined,
  };
  let plan = planInstall(facts);
  if ('probe' in plan) plan = planInstall({ ...facts, probe: await probeUrl(plan.probe) });
  console.log(plan.line);
  process.exitCode = plan.skipBinary ? EXIT_SKIP_BINARY : 0;
}

if (
  process.argv[1] !== undefined &&
  import.meta.url === pathToFileURL(resolve(process.argv[1])).href
) {
  await main();
}

#!/usr/bin/env node
// `npm run electron:native`: builds better-sqlite3 for Electron's ABI into
// build/native/electron-<version>/better_sqlite3.node, where src/main/store/native-binding.ts looks
// for it. The build happens in a temporary copy of the package, so node_modules/better-sqlite3 keeps
// its plain-Node build and the tests and the headless CLI keep working.
//
// Order: a prebuilt binary (prebuild-install --runtime electron), else a compile against Electron's
// headers (node-gyp, needs Python and a C++ toolchain). Finally the result is loaded once by the
// Electron binary itself (ELECTRON_RUN_AS_NODE) so a wrong ABI is caught here, not at app start.
//
// Usage: node scripts/electron-native.js [--force]
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Same layout as electronNativePath() in src/main/store/native-binding.ts (a unit test keeps them equal). */
export function nativeOutputPath(root, version) {
  return join(root, 'build', 'native', `electron-${version}`, 'better_sqlite3.node');
}

/** The installed electron package's version, or null when the package is missing. */
export function electronVersion(root) {
  try {
    const pkg = JSON.parse(
      readFileSync(join(root, 'node_modules', 'electron', 'package.json'), 'utf8'),
    );
    return typeof pkg.version === 'string' ? pkg.version : null;
  } catch {
    return null;
  }
}

/**
 * Path of the Electron executable, or null when it was never downloaded (ELECTRON_SKIP_BINARY_DOWNLOAD,
 * an offline install, CI). Mirrors node_modules/electron/index.js without throwing.
 */
export function electronBinary(root, env = process.env) {
  const dir = join(root, 'node_modules', 'electron');
  let rel = null;
  try {
    rel = readFileSync(join(dir, 'path.txt'), 'utf8').trim();
  } catch {
    rel = null;
  }
  let bin = null;
  if (env.ELECTRON_OVERRIDE_DIST_PATH)
    bin = join(env.ELECTRON_OVERRIDE_DIST_PATH, rel || 'electron');
  else if (rel) bin = join(dir, 'dist', rel);
  return bin !== null && existsSync(bin) ? bin : null;
}

/** Where node-gyp may be: npm's own copy (npm sets npm_config_node_gyp for scripts), or next to node. */
export function nodeGypCandidates(env = process.env, execPath = process.execPath) {
  const list = [];
  if (env.npm_config_node_gyp) list.push(env.npm_config_node_gyp);
  const prefix = dirname(dirname(execPath));
  list.push(
    join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  );
  list.push(join(prefix, 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return list;
}

function run(cmd, args, options) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  return r.status === 0;
}

/**
 * Builds (or finds) the Electron addon. Returns { status, path?, message }:
 * status 'present' | 'built' | 'no-electron' | 'failed'.
 */
export function buildElectronNative({
  root = ROOT,
  force = false,
  env = process.env,
  log = console.log,
} = {}) {
  const version = electronVersion(root);
  const bin = electronBinary(root, env);
  if (!version || !bin) {
    return {
      status: 'no-electron',
      message:
        "Electron's binary is not installed (node_modules/electron has no dist/), so there is nothing to " +
        'build for. Install it with `node node_modules/electron/install.js` (needs network), or use the ' +
        'headless hub: `npm run serve`.',
    };
  }
  const out = nativeOutputPath(root, version);
  if (existsSync(out) && !force) {
    return {
      status: 'present',
      path: out,
      message: `better-sqlite3 for Electron ${version} already built: ${out}`,
    };
  }
  const require = createRequire(join(root, 'package.json'));
  let pkgDir;
  try {
    pkgDir = dirname(require.resolve('better-sqlite3/package.json'));
  } catch {
    return { status: 'failed', message: 'better-sqlite3 is not installed (run npm ci first).' };
  }
  const work = mkdtempSync(join(tmpdir(), 'fb-electron-native-'));
  try {
    const copy = join(work, 'better-sqlite3');
    // The plain-Node build output stays behind: only sources, deps and package.json are needed.
    cpSync(pkgDir, copy, {
      recursive: true,
      filter: (src) =>
        !src.startsWith(join(pkgDir, 'build') + sep) && src !== join(pkgDir, 'build'),
    });
    const arch = env.npm_config_arch || process.arch;
    const built = join(copy, 'build', 'Release', 'better_sqlite3.node');
    let ok = false;
    try {
      const prebuild = require.resolve('prebuild-install/bin.js');
      log(
        `Fetching a prebuilt better-sqlite3 for Electron ${version} (${process.platform}-${arch})...`,
      );
      ok =
        run(
          process.execPath,
          [
            prebuild,
            '--runtime',
            'electron',
            '--target',
            version,
            '--arch',
            arch,
            '--platform',
            process.platform,
          ],
          {
            cwd: copy,
            env,
          },
        ) && existsSync(built);
    } catch {
      ok = false;
    }
    if (!ok) {
      const gyp = nodeGypCandidates(env).find((p) => existsSync(p));
      if (!gyp) {
        return {
          status: 'failed',
          message: 'No prebuilt binary was available and node-gyp was not found to compile one.',
        };
      }
      log(`No prebuilt binary; compiling against Electron ${version} headers with node-gyp...`);
      ok =
        run(
          process.execPath,
          [
            gyp,
            'rebuild',
            '--release',
            '--runtime=electron',
            `--target=${version}`,
            `--arch=${arch}`,
            '--dist-url=https://electronjs.org/headers',
          ],
          { cwd: copy, env },
        ) && existsSync(built);
    }
    if (!ok)
      return {
        status: 'failed',
        message: 'Building better-sqlite3 for Electron failed (see the output above).',
      };
    mkdirSync(dirname(out), { recursive: true });
    copyFileSync(built, out);
    const check = spawnSync(bin, ['-e', `require(${JSON.stringify(out)})`], {
      env: { ...env, ELECTRON_RUN_AS_NODE: '1' },
      encoding: 'utf8',
    });
    if (check.status !== 0) {
      rmSync(out, { force: true });
      return {
        status: 'failed',
        message: `The built addon does not load in Electron ${version}: ${(check.stderr || '').trim().split('\n')[0] ?? ''}`,
      };
    }
    return {
      status: 'built',
      path: out,
      message: `Built better-sqlite3 for Electron ${version}: ${out}`,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function isMain() {
  return (
    process.argv[1] !== undefined &&
    import.meta.url === pathToFileURL(resolve(process.argv[1])).href
  );
}

if (isMain()) {
  const result = buildElectronNative({ force: process.argv.includes('--force') });
  const line = `electron-native: ${result.message}`;
  if (result.status === 'built' || result.status === 'present') {
    console.log(line);
  } else {
    console.error(line);
    process.exitCode = result.status === 'no-electron' ? 2 : 1;
  }
}

#!/usr/bin/env node
// `npm start`: build when the output is missing or older than the sources; then run the desktop app
// when Electron's binary is installed (building better-sqlite3 for it once), else the headless hub
// (`fleetbench serve`, extra arguments passed through), opening its dashboard link in the system
// browser when there is a display. The decisions are pure functions (planStart and friends) with
// unit tests in test/unit/shell/start-plan.test.ts; the bottom of the file does the I/O.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { electronBinary, electronVersion, nativeOutputPath, ROOT } from './electron-native.js';

/** Files `npm run build` must have produced (electron.vite.config.ts). */
export const BUILD_OUTPUTS = [
  'out/main/index.js',
  'out/main/cli.js',
  'out/preload/index.cjs',
  'out/renderer/index.html',
];
/** What a build depends on besides src/. */
export const BUILD_INPUTS = ['electron.vite.config.ts', 'package.json', 'tsconfig.json'];

/**
 * Whether to build: any output missing (mtime null), or the oldest output older than the newest input.
 */
export function needsBuild(outputMtimes, newestInputMtime) {
  if (outputMtimes.length === 0 || outputMtimes.some((m) => m === null))
    return { build: true, reason: 'no build yet' };
  const oldest = Math.min(...outputMtimes);
  if (newestInputMtime > oldest)
    return { build: true, reason: 'sources changed since the last build' };
  return { build: false, reason: 'build is up to date' };
}

/** The command that opens a URL in the default browser, or null without a display (SSH, CI, containers). */
export function openerFor(platform, env) {
  if (env.FLEETBENCH_NO_OPEN || env.CI) return null;
  if (platform === 'darwin') return { cmd: 'open', args: [] };
  if (platform === 'win32') return { cmd: 'cmd', args: ['/c', 'start', '""'] };
  if (env.DISPLAY || env.WAYLAND_DISPLAY) return { cmd: 'xdg-open', args: [] };
  return null;
}

/** The dashboard link `fleetbench serve` prints (`  dashboard:  http://127.0.0.1:8009/#key=...`). */
export function findDashboardUrl(line) {
  const m = /(https?:\/\/\S+#key=\S+)/.exec(line);
  return m ? m[1] : null;
}

/**
 * The whole decision: facts in, plan out.
 * facts: { outputMtimes, newestInputMtime, electronBinary, nativeReady, platform, env, args, root, execPath }
 */
export function planStart(facts) {
  const build = needsBuild(facts.outputMtimes, facts.newestInputMtime);
  const headless = {
    cmd: facts.execPath,
    args: [join(facts.root, 'bin', 'fleetbench.js'), 'serve', ...facts.args],
  };
  if (facts.electronBinary) {
    return {
      mode: 'electron',
      build,
      buildNative: !facts.nativeReady,
      command: { cmd: facts.electronBinary, args: [facts.root, ...facts.args] },
      fallback: headless,
      opener: null,
      notice: null,
    };
  }
  return {
    mode: 'headless',
    build,
    buildNative: false,
    command: headless,
    fallback: null,
    opener: openerFor(facts.platform, facts.env),
    notice:
      'Electron is not available here (its binary is not installed); starting the headless hub instead.',
  };
}

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

function newestMtime(dir) {
  let newest = 0;
  const walk = (d) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, mtime(p) ?? 0);
    }
  };
  walk(dir);
  return newest;
}

export function gatherFacts(root = ROOT, env = process.env, args = process.argv.slice(2)) {
  const version = electronVersion(root);
  const bin = electronBinary(root, env);
  return {
    root,
    env,
    args,
    platform: process.platform,
    execPath: process.execPath,
    outputMtimes: BUILD_OUTPUTS.map((p) => mtime(join(root, p))),
    newestInputMtime: Math.max(
      newestMtime(join(root, 'src')),
      ...BUILD_INPUTS.map((p) => mtime(join(root, p)) ?? 0),
    ),
    electronBinary: bin,
    nativeReady: version !== null && existsSync(nativeOutputPath(root, version)),
  };
}

function runBuild(root) {
  const cli = join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');
  return spawnSync(process.execPath, [cli, 'build'], { cwd: root, stdio: 'inherit' }).status === 0;
}

function runHeadless(command, opener) {
  const child = spawn(command.cmd, command.args, { stdio: ['inherit', 'pipe', 'inherit'] });
  let opened = false;
  let pending = '';
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    if (opened || !opener) return;
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const url = findDashboardUrl(line);
      if (url) {
        opened = true;
        const o = spawn(opener.cmd, [...opener.args, url], { stdio: 'ignore', detached: true });
        o.on('error', () =>
          console.error(`Could not run ${opener.cmd}; open the dashboard link above yourself.`),
        );
        o.unref();
        break;
      }
    }
  });
  // Ctrl+C reaches the child too (same process group): let it shut down and exit with it.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal ? 1 : 0);
  });
}

function runElectron(command) {
  const child = spawn(command.cmd, command.args, { stdio: 'inherit' });
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal ? 1 : 0);
  });
}

function main() {
  const plan = planStart(gatherFacts());
  if (plan.notice) console.log(plan.notice);
  if (plan.build.build) {
    console.log(`Building (${plan.build.reason})...`);
    if (!runBuild(ROOT)) {
      if (plan.mode === 'electron') {
        console.error('The build failed; fix the errors above and run npm start again.');
        process.exitCode = 1;
        return;
      }
      console.error(
        'The build failed; starting the hub from sources (the dashboard may be missing).',
      );
    }
  }
  if (plan.mode === 'electron') {
    if (plan.buildNative) {
      const native = spawnSync(process.execPath, [join(ROOT, 'scripts', 'electron-native.js')], {
        stdio: 'inherit',
      });
      if (native.status !== 0) {
        console.error(
          'better-sqlite3 could not be built for Electron; starting the headless hub instead.',
        );
        runHeadless(plan.fallback, openerFor(process.platform, process.env));
        return;
      }
    }
    runElectron(plan.command);
    return;
  }
  runHeadless(plan.command, plan.opener);
}

if (
  process.argv[1] !== undefined &&
  import.meta.url === pathToFileURL(resolve(process.argv[1])).href
) {
  main();
}

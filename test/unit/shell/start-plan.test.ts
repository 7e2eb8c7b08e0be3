/**
 * `npm start`'s decisions (scripts/start.js) and Electron detection (scripts/electron-native.js).
 * The scripts are plain JavaScript run by node, so they are imported by URL and typed here.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { electronNativePath } from '../../../src/main/store/native-binding';

interface Command {
  cmd: string;
  args: string[];
}
interface Plan {
  mode: 'electron' | 'headless';
  build: { build: boolean; reason: string };
  buildNative: boolean;
  command: Command;
  fallback: Command | null;
  opener: Command | null;
  notice: string | null;
}
interface Facts {
  outputMtimes: (number | null)[];
  newestInputMtime: number;
  electronBinary: string | null;
  nativeReady: boolean;
  platform: string;
  env: Record<string, string | undefined>;
  args: string[];
  root: string;
  execPath: string;
}
interface StartModule {
  planStart(f: Facts): Plan;
  needsBuild(outputs: (number | null)[], newest: number): { build: boolean; reason: string };
  openerFor(platform: string, env: Record<string, string | undefined>): Command | null;
  findDashboardUrl(line: string): string | null;
  gatherFacts(root: string, env: Record<string, string | undefined>, args: string[]): Facts;
}
interface NativeModule {
  electronBinary(root: string, env: Record<string, string | undefined>): string | null;
  electronVersion(root: string): string | null;
  nativeOutputPath(root: string, version: string): string;
  buildElectronNative(o: { root: string; env: Record<string, string | undefined>; log(): void }): {
    status: string;
    message: string;
  };
}

const scriptUrl = (name: string): string =>
  new URL(`../../../scripts/${name}`, import.meta.url).href;
let start: StartModule;
let native: NativeModule;
let root: string;

beforeAll(async () => {
  start = (await import(/* @vite-ignore */ scriptUrl('start.js'))) as StartModule;
  native = (await import(/* @vite-ignore */ scriptUrl('electron-native.js'))) as NativeModule;
  root = mkdtempSync(join(tmpdir(), 'fb-start-'));
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const base: Facts = {
  outputMtimes: [100, 100, 100, 100],
  newestInputMtime: 50,
  electronBinary: null,
  nativeReady: false,
  platform: 'linux',
  env: {},
  args: ['--port', '9000'],
  root: '/proj',
  execPath: '/usr/bin/node',
};

describe('needsBuild', () => {
  it('builds when an output is missing or older than the newest source', () => {
    expect(start.needsBuild([100, null], 0).build).toBe(true);
    expect(start.needsBuild([], 0).build).toBe(true);
    expect(start.needsBuild([100, 90], 95)).toEqual({
      build: true,
      reason: 'sources changed since the last build',
    });
    expect(start.needsBuild([100, 90], 90).build).toBe(false);
  });
});

describe('planStart', () => {
  it('without Electron: one notice, the headless hub with pass-through args, and a browser when there is a display', () => {
    const p = start.planStart({ ...base, env: { DISPLAY: ':0' } });
    expect(p.mode).toBe('headless');
    expect(p.notice).toMatch(/Electron is not available/);
    expect(p.command).toEqual({
      cmd: '/usr/bin/node',
      args: ['/proj/bin/fleetbench.js', 'serve', '--port', '9000'],
    });
    expect(p.opener).toEqual({ cmd: 'xdg-open', args: [] });
    expect(p.build.build).toBe(false);
    expect(start.planStart({ ...base, env: {} }).opener).toBeNull();
  });

  it('with Electron: launches it on the project, building the native module once', () => {
    const p = start.planStart({
      ...base,
      electronBinary: '/proj/node_modules/electron/dist/electron',
      outputMtimes: [null, 1, 1, 1],
    });
    expect(p.mode).toBe('electron');
    expect(p.build.build).toBe(true);
    expect(p.buildNative).toBe(true);
    expect(p.command).toEqual({
      cmd: '/proj/node_modules/electron/dist/electron',
      args: ['/proj', '--port', '9000'],
    });
    expect(p.fallback?.args).toContain('serve');
    expect(p.notice).toBeNull();
    expect(start.planStart({ ...base, electronBinary: '/e', nativeReady: true }).buildNative).toBe(
      false,
    );
  });
});

describe('openerFor', () => {
  it('picks the platform opener and stays quiet without a display or in CI', () => {
    expect(start.openerFor('darwin', {})).toEqual({ cmd: 'open', args: [] });
    expect(start.openerFor('win32', {})?.cmd).toBe('cmd');
    expect(start.openerFor('linux', { WAYLAND_DISPLAY: 'wayland-0' })?.cmd).toBe('xdg-open');
    expect(start.openerFor('linux', { SSH_CONNECTION: 'x' })).toBeNull();
    expect(start.openerFor('darwin', { CI: 'true' })).toBeNull();
    expect(start.openerFor('linux', { DISPLAY: ':0', FLEETBENCH_NO_OPEN: '1' })).toBeNull();
  });
});

describe('findDashboardUrl', () => {
  it('finds the link `fleetbench serve` prints', () => {
    expect(start.findDashboardUrl('  dashboard:  http://127.0.0.1:8009/#key=abc_DEF-123')).toBe(
      'http://127.0.0.1:8009/#key=abc_DEF-123',
    );
    expect(start.findDashboardUrl('  REST API:   http://127.0.0.1:8009/api/v2')).toBeNull();
  });
});

describe('Electron detection', () => {
  it('finds no binary when the package was installed without its download', () => {
    mkdirSync(join(root, 'node_modules', 'electron'), { recursive: true });
    writeFileSync(
      join(root, 'node_modules', 'electron', 'package.json'),
      JSON.stringify({ version: '40.10.2' }),
    );
    expect(native.electronVersion(root)).toBe('40.10.2');
    expect(native.electronBinary(root, {})).toBeNull();
    const r = native.buildElectronNative({ root, env: {}, log: () => {} });
    expect(r.status).toBe('no-electron');
    expect(r.message).toMatch(/binary is not installed/);
  });

  it('finds the binary once path.txt and dist/ exist, or via ELECTRON_OVERRIDE_DIST_PATH', () => {
    writeFileSync(join(root, 'node_modules', 'electron', 'path.txt'), 'electron');
    expect(native.electronBinary(root, {})).toBeNull(); // path.txt without the file
    mkdirSync(join(root, 'node_modules', 'electron', 'dist'), { recursive: true });
    writeFileSync(join(root, 'node_modules', 'electron', 'dist', 'electron'), '');
    expect(native.electronBinary(root, {})).toBe(
      join(root, 'node_modules', 'electron', 'dist', 'electron'),
    );
    const other = join(root, 'custom');
    mkdirSync(other);
    writeFileSync(join(other, 'electron'), '');
    expect(native.electronBinary(root, { ELECTRON_OVERRIDE_DIST_PATH: other })).toBe(
      join(other, 'electron'),
    );
  });

  it('gathers facts from a checkout without build outputs', () => {
    const facts = start.gatherFacts(join(root), {}, []);
    expect(facts.outputMtimes).toEqual([null, null, null, null]);
    expect(facts.nativeReady).toBe(false);
  });

  it('puts the native build where the hub looks for it', () => {
    expect(native.nativeOutputPath('/p', '40.10.2')).toBe(electronNativePath('/p', '40.10.2'));
  });
});

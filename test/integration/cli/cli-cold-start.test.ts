/**
 * `fleetbench --version` and `--help` must not load the hub (issue 11: CLI cold start < 0.3 s).
 * Not timing-based: a module hook logs every URL the process resolves, and the test checks that
 * none of the heavy parts is among them, both for the path users run (the built CLI after
 * `npm run build`, the sources otherwise) and for the sources through tsx. A running hub, too,
 * loads the flashing and certificate code only when it needs it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startCli, stopChild } from '../../support/cli-runner';

const REGISTER = fileURLToPath(new URL('../../support/load-log-register.mjs', import.meta.url));

/** What a hub, flasher or validating command loads and `--version` must not. */
const HEAVY = [
  /\/node_modules\/(fastify|@fastify|better-sqlite3|serialport|@serialport|esptool-js|typebox|ws|selfsigned)\//,
  /\/src\/main\/(hub|flasher\/|gateway\/|store\/)/,
  // typebox is bundled into the build (electron.vite.config.ts): its chunk is named after validate.ts.
  /\/out\/main\/chunks\/(hub|store|worker-protocol|device-service|validate)-/,
];

const dir = mkdtempSync(join(tmpdir(), 'fb-cold-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
async function loadedBy(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const log = join(dir, `load-${n++}.log`);
  const r = await runCli(args, {
    ...env,
    NODE_OPTIONS: `--import ${REGISTER}`,
    FLEETBENCH_LOAD_LOG: log,
  });
  expect(r.code, r.stderr).toBe(0);
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

const heavy = (urls: string[]): string[] => urls.filter((u) => HEAVY.some((re) => re.test(u)));

describe('CLI cold start', () => {
  for (const [mode, env] of [
    ['as installed', {}],
    ['from source', { FLEETBENCH_FROM_SOURCE: '1' }],
  ] as const) {
    it(`--version and --help load neither the hub nor the flasher (${mode})`, async () => {
      for (const args of [['--version'], ['--help'], ['help']]) {
        const urls = await loadedBy(args, env);
        // The hook works: the CLI's own dependency shows up.
        expect(urls.some((u) => u.includes('/node_modules/commander/'))).toBe(true);
        expect(heavy(urls), args.join(' ')).toEqual([]);
      }
    });
  }

  it('a command still loads what it needs (the check above can fail)', async () => {
    const urls = await loadedBy(['serve', '--help']);
    expect(heavy(urls).some((u) => u.includes('/node_modules/fastify/'))).toBe(true);
  });

  it('a restarted hub loads neither esptool-js, serialport, the certificate maker, ajv nor the HEX parser', async () => {
    const dataDir = join(dir, 'hub');
    const serve = ['serve', '--host', '127.0.0.1', '--port', '0', '--tls-port', '0'];
    // Fastify's schema compilers and the STM32 HEX parser load on first use (issue 11, idle RSS).
    const lazy =
      /\/node_modules\/(esptool-js|serialport|selfsigned|ajv|@fastify\/ajv-compiler|nrf-intel-hex)\//;
    for (const [round, log] of [
      ['first start', join(dir, 'serve-1.log')],
      ['restart', join(dir, 'serve-2.log')],
    ] as const) {
      const { child } = await startCli([...serve, '--data-dir', dataDir], /REST API:.*\n/, {
        NODE_OPTIONS: `--import ${REGISTER}`,
        FLEETBENCH_LOAD_LOG: log,
      });
      await stopChild(child);
      const urls = readFileSync(log, 'utf8').split('\n');
      expect(urls.some((u) => u.includes('/node_modules/fastify/'))).toBe(true);
      // The first start makes the TLS certificates, so it may load selfsigned; a restart may not.
      const unexpected = urls.filter(
        (u) => lazy.test(u) && !(round === 'first start' && u.includes('/selfsigned/')),
      );
      expect(unexpected, round).toEqual([]);
    }
  });
});

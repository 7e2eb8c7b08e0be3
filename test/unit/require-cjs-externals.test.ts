/**
 * The main bundle's CommonJS packages are required, not imported (scripts/require-cjs-externals.ts,
 * issue 11: no export lexer at boot). The rewrite keeps every binding and every line number.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  loadsAsCommonJs,
  packageNameOf,
  rewriteCjsImports,
} from '../../scripts/require-cjs-externals';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const cjs = (s: string): boolean => s !== 'esm-only';

describe('require-cjs-externals', () => {
  it('turns default, named, renamed, namespace and bare imports into requires', () => {
    const chunk = [
      'import { a as x } from "./own-chunk.js";',
      'import Fastify from "fastify";',
      'import { Command, Help as H } from "commander";',
      'import * as dnsPacket from "dns-packet";',
      'import WebSocket, { WebSocketServer } from "ws";',
      'import "side-effect";',
      'import envPaths from "esm-only";',
      'import { readFileSync } from "node:fs";',
      'import { EventEmitter } from "events";',
      'run();',
    ].join('\n');
    const out = rewriteCjsImports(chunk, cjs);
    expect(out).not.toBeNull();
    const lines = (out ?? '').split('\n');
    expect(lines).toHaveLength(10);
    expect(lines[0]).toMatch(
      /^import \{ createRequire as \S+ \} from "node:module"; const (\S+) = /,
    );
    expect(lines[0]).toContain('import { a as x } from "./own-chunk.js";');
    expect(lines[1]).toBe('const Fastify = __fbRequire("fastify");');
    expect(lines[2]).toBe('const { Command, Help: H } = __fbRequire("commander");');
    expect(lines[3]).toBe('const dnsPacket = __fbRequire("dns-packet");');
    expect(lines[4]).toBe(
      'const WebSocket = __fbRequire("ws"); const { WebSocketServer } = WebSocket;',
    );
    expect(lines[5]).toBe('__fbRequire("side-effect");');
    expect(lines.slice(6)).toEqual(chunk.split('\n').slice(6));
  });

  it('leaves a chunk without CommonJS imports alone', () => {
    expect(rewriteCjsImports('import x from "esm-only";\nx();', cjs)).toBeNull();
  });

  it('the rewritten code runs: the bindings are the CommonJS exports', async () => {
    const code = rewriteCjsImports(
      ['import * as dnsPacket from "dns-packet";', 'export const encode = dnsPacket.encode;'].join(
        '\n',
      ),
      cjs,
    );
    // import.meta.url of a data: URL cannot resolve packages: resolve from the repository.
    const src = (code ?? '').replace('import.meta.url', JSON.stringify(`${ROOT}package.json`));
    const mod = (await import(`data:text/javascript,${encodeURIComponent(src)}`)) as {
      encode: unknown;
    };
    expect(typeof mod.encode).toBe('function');
  });

  it('tells CommonJS packages from ES modules as require() would load them', () => {
    expect(loadsAsCommonJs('fastify', ROOT)).toBe(true);
    expect(loadsAsCommonJs('commander', ROOT)).toBe(true);
    expect(loadsAsCommonJs('fflate', ROOT)).toBe(true); // its require build is .cjs
    expect(loadsAsCommonJs('env-paths', ROOT)).toBe(false); // ESM only
    expect(loadsAsCommonJs('no-such-package-here', ROOT)).toBe(false);
    expect(packageNameOf('@serialport/bindings-cpp/dist/linux-list')).toBe(
      '@serialport/bindings-cpp',
    );
    expect(packageNameOf('ws')).toBe('ws');
  });
});

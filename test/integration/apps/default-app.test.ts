/**
 * The built-in customer app (issue 10: "served with no internet access, nothing loaded from a
 * CDN"): no file of resources/customer-app names another origin, and every URL its page, styles
 * and manifest reference is served by the hub itself with a fitting content type.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBuiltInAppDir } from '../../../src/main/customers/app-store';
import { appPath, DEFAULT_APP_ID } from '../../../src/shared/customer-app';
import { startTestHub, type TestHub } from '../../support/hub-harness';

const dir = findBuiltInAppDir() ?? '';
const TEXT = /\.(html|js|css|webmanifest|svg|json)$/;
// An XML namespace is a name, never fetched.
const NAMESPACES = new Set(['http://www.w3.org/2000/svg']);

function textFiles(): Array<[string, string]> {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => TEXT.test(f))
    .map((f) => [f, readFileSync(join(dir, f), 'utf8')]);
}

/** Every URL a file references: src/href attributes, CSS url(), manifest "src"/"start_url". */
function references(name: string, text: string): string[] {
  const out: string[] = [];
  const add = (re: RegExp) => {
    for (const m of text.matchAll(re)) if (m[1] !== undefined) out.push(m[1]);
  };
  if (name.endsWith('.html')) add(/\s(?:src|href)="([^"]*)"/g);
  if (name.endsWith('.css')) add(/url\(\s*['"]?([^'")]+)['"]?\s*\)/g);
  if (name.endsWith('.webmanifest')) add(/"(?:src|start_url|scope)"\s*:\s*"([^"]*)"/g);
  if (name.endsWith('.js')) add(/\bimport\s[^'"]*['"]([^'"]+)['"]/g);
  return out;
}

describe('the built-in customer app', () => {
  let t: TestHub;

  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(() => t.stop());

  it('is found in the repo (resources/customer-app) with an index.html', () => {
    expect(dir).toMatch(/resources[\\/]customer-app$/);
    expect(textFiles().map(([f]) => f)).toContain('index.html');
  });

  it('names no other origin: no http(s):// and no //host URL outside XML namespaces', () => {
    for (const [name, text] of textFiles()) {
      for (const m of text.matchAll(/\b(?:https?|wss?):\/\/[^\s"'`)<>]*/g)) {
        expect(NAMESPACES.has(m[0]), `${name}: ${m[0]}`).toBe(true);
      }
      for (const ref of references(name, text)) {
        expect(ref.startsWith('//'), `${name}: ${ref}`).toBe(false);
        expect(/^[a-z][a-z0-9+.-]*:/i.test(ref), `${name}: ${ref}`).toBe(false);
      }
    }
  });

  it('has every URL it references served by the hub', async () => {
    const base = `${t.http}${appPath(DEFAULT_APP_ID)}`;
    const refs = new Set<string>();
    for (const [name, text] of textFiles()) {
      for (const ref of references(name, text)) refs.add(new URL(ref, base + name).href);
    }
    expect(refs.size).toBeGreaterThanOrEqual(4);
    for (const url of refs) {
      const res = await fetch(url);
      expect(res.status, url).toBe(200);
      expect(res.headers.get('content-type'), url).not.toBe('application/octet-stream');
    }
  });
});

/** Serving rules of customer apps (customers/app-files.ts): safe segments, types, caching. */
import { describe, expect, it } from 'vitest';
import {
  appCacheControl,
  appContentType,
  appFileSegments,
} from '../../../src/main/customers/app-files';

describe('appFileSegments', () => {
  it('decodes plain paths and maps a folder to its index.html', () => {
    expect(appFileSegments('')).toEqual(['index.html']);
    expect(appFileSegments('js/app.js')).toEqual(['js', 'app.js']);
    expect(appFileSegments('sub/')).toEqual(['sub', 'index.html']);
    expect(appFileSegments('my%20file.txt')).toEqual(['my file.txt']);
  });

  it('refuses every way out of the folder and every ambiguous name', () => {
    for (const bad of [
      '..',
      '../x',
      'a/../../x',
      '%2e%2e/x',
      '%2E%2E',
      '.',
      './x',
      '..%2fx',
      'a%2fb',
      'a%5cb',
      'a\\b',
      'a%00.js',
      'a//b',
      '/etc/passwd',
      '%',
      '%E0%A4%A',
      'a%0ab',
    ]) {
      expect(appFileSegments(bad), bad).toBeNull();
    }
  });
});

describe('appContentType', () => {
  it('maps extensions case-insensitively and falls back to bytes', () => {
    expect(appContentType('a.HTML')).toBe('text/html; charset=utf-8');
    expect(appContentType('a.mjs')).toBe('text/javascript; charset=utf-8');
    expect(appContentType('site.webmanifest')).toBe('application/manifest+json; charset=utf-8');
    expect(appContentType('m.wasm')).toBe('application/wasm');
    expect(appContentType('Makefile')).toBe('application/octet-stream');
  });
});

describe('appCacheControl', () => {
  it('revalidates pages, manifests, service workers and the whole built-in app', () => {
    expect(appCacheControl('index.html', false)).toBe('no-cache');
    expect(appCacheControl('manifest.webmanifest', false)).toBe('no-cache');
    expect(appCacheControl('sw.js', false)).toBe('no-cache');
    expect(appCacheControl('app.js', false)).toBe('public, max-age=3600');
    expect(appCacheControl('app.js', true)).toBe('no-cache');
  });
});

/**
 * HTTP.Request params (PROTOCOL.md 2): typed, size-capped, and the headers the hub owns on its
 * own connection never come from the device.
 */
import { describe, expect, it } from 'vitest';
import { HubError } from '../../../src/shared/errors';
import { normalizeHttpParams } from '../../../src/main/data/http-request-schema';

const MAX = 100;

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    return err instanceof HubError ? err.kind : String(err);
  }
}

describe('normalizeHttpParams', () => {
  it('defaults to GET without body and upper-cases the method', () => {
    expect(normalizeHttpParams({ url: 'http://a.test/' }, MAX)).toEqual({
      url: 'http://a.test/',
      method: 'GET',
      headers: {},
      body: null,
    });
    expect(normalizeHttpParams({ url: 'http://a.test/', method: 'post' }, MAX).method).toBe('POST');
  });

  it('sends a string body as is and other JSON as application/json text', () => {
    const s = normalizeHttpParams({ url: 'http://a/', method: 'POST', body: 'hi' }, MAX);
    expect(s.body?.toString()).toBe('hi');
    expect(s.headers['content-type']).toBeUndefined();
    const j = normalizeHttpParams({ url: 'http://a/', method: 'PUT', body: { t: 1 } }, MAX);
    expect(j.body?.toString()).toBe('{"t":1}');
    expect(j.headers['content-type']).toBe('application/json');
    const own = normalizeHttpParams(
      { url: 'http://a/', method: 'PUT', body: [1], headers: { 'Content-Type': 'text/x' } },
      MAX,
    );
    expect(own.headers['content-type']).toBe('text/x');
  });

  it('caps the body at maxHttpRequestBodyBytes (edge: exactly the cap passes)', () => {
    const at = normalizeHttpParams(
      { url: 'http://a/', method: 'POST', body: 'x'.repeat(MAX) },
      MAX,
    );
    expect(at.body?.byteLength).toBe(MAX);
    expect(
      codeOf(() =>
        normalizeHttpParams({ url: 'http://a/', method: 'POST', body: 'x'.repeat(MAX + 1) }, MAX),
      ),
    ).toBe('too_large');
    // Bytes, not characters.
    expect(
      codeOf(() =>
        normalizeHttpParams({ url: 'http://a/', method: 'POST', body: 'é'.repeat(51) }, MAX),
      ),
    ).toBe('too_large');
  });

  it('drops hop-by-hop, Host and framing headers the device sends', () => {
    const r = normalizeHttpParams(
      {
        url: 'http://a/',
        headers: {
          Host: 'evil.test',
          Connection: 'upgrade',
          Upgrade: 'websocket',
          'Transfer-Encoding': 'chunked',
          'Content-Length': '5',
          'Proxy-Authorization': 'x',
          TE: 'trailers',
          Expect: '100-continue',
          'X-Device': 'd1',
          Authorization: 'Bearer t',
        },
      },
      MAX,
    );
    expect(r.headers).toEqual({ 'x-device': 'd1', authorization: 'Bearer t' });
  });

  it.each([
    [{}],
    [{ url: 5 }],
    [{ url: '' }],
    [{ url: 'http://a/', method: 'CONNECT' }],
    [{ url: 'http://a/', method: 'TRACE' }],
    [{ url: 'http://a/', method: 'G E T' }],
    [{ url: 'http://a/', headers: { 'x-a': 'v\r\nInjected: 1' } }],
    [{ url: 'http://a/', headers: { 'bad name': 'v' } }],
    [{ url: 'http://a/', headers: { 'x-a': 5 } }],
    [{ url: 'http://a/', headers: 'x' }],
    [{ url: 'http://a/', body: 'x' }],
    [{ url: 'x'.repeat(2049) }],
    [[1, 2]],
    ['http://a/'],
  ])('refuses params #%# as invalid', (p) => {
    expect(codeOf(() => normalizeHttpParams(p, MAX))).toBe('validation_failed');
  });

  it('refuses more than 32 headers', () => {
    const headers = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`x-${i}`, 'v']));
    expect(codeOf(() => normalizeHttpParams({ url: 'http://a/', headers }, MAX))).toBe(
      'validation_failed',
    );
    headers['x-32'] = undefined as unknown as string;
    delete headers['x-32'];
    expect(codeOf(() => normalizeHttpParams({ url: 'http://a/', headers }, MAX))).toBeNull();
  });
});

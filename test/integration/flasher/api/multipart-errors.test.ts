/**
 * Malformed multipart bodies on the three upload routes of the flasher API (issue 7 item 8):
 * each is a coded 400 (4004 multipart_invalid; bad `options` JSON 4001, too deep 4005), never
 * a 500, starts nothing, and the hub keeps serving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFlasherHub, type FlasherHub } from './flasher-hub';

let t: FlasherHub;

beforeAll(async () => {
  t = await startFlasherHub();
});
afterAll(async () => {
  await t.stop();
});

const ROUTES = ['/api/v2/local/flash', '/api/v2/local/bench', '/api/v2/local/monitor/symbols'];
const B = 'fbBoundary42';

function part(name: string, body: string, filename?: string): string {
  const disp = `form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}`;
  return `--${B}\r\nContent-Disposition: ${disp}\r\n\r\n${body}\r\n`;
}

/** Bodies that are not valid multipart/form-data, each with the content type it is sent with. */
const MALFORMED: Array<[string, string, string]> = [
  [
    'cut off before the closing boundary',
    `multipart/form-data; boundary=${B}`,
    `${part('options', '{}')}--${B}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\nabc`,
  ],
  ['no boundary parameter', 'multipart/form-data', `${part('file', 'abc', 'a.bin')}--${B}--\r\n`],
  [
    'cut off inside a part header',
    `multipart/form-data; boundary=${B}`,
    `--${B}\r\nContent-Disposition: form-data; name="file"; filen`,
  ],
  [
    'a body that never uses its boundary',
    `multipart/form-data; boundary=${B}`,
    'just some bytes, no parts at all',
  ],
];

/** Well-formed enough for the parser, but with nothing usable in it: 4002 naming what is missing. */
const EMPTY: Array<[string, string]> = [
  ['an empty body', ''],
  ['a part without headers', `--${B}\r\nthis is not a header\r\n\r\nabc\r\n--${B}--\r\n`],
];

async function post(
  path: string,
  contentType: string,
  body: string,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(t.http + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.key}`, 'content-type': contentType },
    body,
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

describe('malformed multipart is a coded 400 (issue 7 item 8)', () => {
  for (const route of ROUTES) {
    it.each(MALFORMED)(`${route}: %s`, async (_label, contentType, body) => {
      const r = await post(route, contentType, body);
      expect(r.status).toBe(400);
      expect(r.json).toEqual({ error: { code: 4004, message: expect.any(String) } });
    });

    it.each(EMPTY)(`${route}: %s`, async (_label, body) => {
      const r = await post(route, `multipart/form-data; boundary=${B}`, body);
      expect(r.status).toBe(400);
      expect(r.json).toEqual({ error: { code: 4002, message: expect.any(String) } });
    });

    it(`${route}: options that are not JSON, or nest too deep, are 4001 / 4005`, async () => {
      const ct = `multipart/form-data; boundary=${B}`;
      const bad = await post(route, ct, `${part('options', '{nope')}--${B}--\r\n`);
      expect(bad.status).toBe(400);
      expect(bad.json).toEqual({ error: { code: 4001, message: expect.any(String) } });
      const deep = '['.repeat(5000) + ']'.repeat(5000);
      const tooDeep = await post(route, ct, `${part('options', deep)}--${B}--\r\n`);
      expect(tooDeep.status).toBe(400);
      expect(tooDeep.json).toEqual({ error: { code: 4005, message: expect.any(String) } });
    });
  }

  it('started no job and the hub still serves', async () => {
    const jobs = await t.json<unknown[]>('GET', '/api/v2/local/jobs');
    expect(jobs.status).toBe(200);
    expect(jobs.body).toEqual([]);
  });
});

/**
 * A multipart upload cut off before its closing boundary is the client's malformed request: a
 * coded 400 (4004 multipart_invalid) on every route that takes a file part, never a 500, and it
 * holds nothing: the restore route, one restore at a time, takes the next request at once (it
 * used to wait forever for the part's end, keeping its lock). Real hub, real sockets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../../support/hub-harness';

const B = 'cutoffboundary';
const CUT_OFF =
  `--${B}\r\nContent-Disposition: form-data; name="file"; filename="a.zip"\r\n` +
  'Content-Type: application/zip\r\n\r\nPK\u0003\u0004 and then nothing more';

describe('a multipart upload cut off before its end', () => {
  let t: TestHub;
  let device = '';
  beforeAll(async () => {
    t = await startTestHub();
    device = (await t.createDevice({ name: 'cut' })).id;
  });
  afterAll(async () => {
    await t.stop();
  });

  const post = async (path: string, body: string, type: string) => {
    const r = await fetch(t.http + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.key}`, 'content-type': type },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    return { status: r.status, json: (await r.json()) as { error?: { code: number } } };
  };

  it.each([['/api/v2/m'], ['/api/v2/devices/:id/ota'], ['/api/v2/firmware'], ['/api/v2/restore']])(
    '%s answers 400 multipart_invalid',
    async (path) => {
      const r = await post(
        path.replace(':id', device),
        CUT_OFF,
        `multipart/form-data; boundary=${B}`,
      );
      expect(r.status).toBe(400);
      expect(r.json.error?.code).toBe(4004);
    },
  );

  it('leaves the restore route free: the next archive is judged, not refused as busy', async () => {
    await post('/api/v2/restore', CUT_OFF, `multipart/form-data; boundary=${B}`);
    const next = await post('/api/v2/restore', 'not a zip', 'application/zip');
    expect(next.status).toBe(422);
  });
});

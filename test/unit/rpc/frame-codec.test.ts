import { describe, expect, it } from 'vitest';
import {
  decodeDeviceFrame,
  NONSTANDARD_ERROR_CODE,
  type DecodedFrame,
  type JunkReason,
} from '../../../src/main/rpc/frame-codec';

const MAX = 8 * 1024;
const decode = (raw: string | Buffer, max = MAX): DecodedFrame => decodeDeviceFrame(raw, max);

function junkReason(f: DecodedFrame): JunkReason {
  if (f.kind !== 'junk') throw new Error(`expected junk, got ${f.kind}`);
  expect(f.detail.length).toBeGreaterThan(0);
  expect(f.detail.length).toBeLessThanOrEqual(201);
  return f.reason;
}

describe('decodeDeviceFrame (PROTOCOL.md 2)', () => {
  describe('valid frames', () => {
    const cases: Array<{ name: string; raw: string; want: DecodedFrame }> = [
      {
        name: 'request with numeric id',
        raw: '{"id":5,"method":"Dash.Heartbeat","params":{"uptime":3}}',
        want: { kind: 'request', id: 5, method: 'Dash.Heartbeat', params: { uptime: 3 } },
      },
      {
        name: 'request with id 0',
        raw: '{"id":0,"method":"Shadow.Get"}',
        want: { kind: 'request', id: 0, method: 'Shadow.Get', params: undefined },
      },
      {
        name: 'request with a string id',
        raw: '{"id":"abc","method":"Dash.Shadow.Get"}',
        want: { kind: 'request', id: 'abc', method: 'Dash.Shadow.Get', params: undefined },
      },
      {
        name: 'request with an empty-string id',
        raw: '{"id":"","method":"X"}',
        want: { kind: 'request', id: '', method: 'X', params: undefined },
      },
      {
        name: 'request with a tag',
        raw: '{"id":1,"method":"X","tag":{"t":1}}',
        want: { kind: 'request', id: 1, method: 'X', params: undefined, tag: { t: 1 } },
      },
      {
        name: 'a null tag is still a tag',
        raw: '{"id":1,"method":"X","tag":null}',
        want: { kind: 'request', id: 1, method: 'X', params: undefined, tag: null },
      },
      {
        name: 'notification (no id)',
        raw: '{"method":"Log","params":{"fd":1,"data":"hi","t":1.5,"seq":3}}',
        want: {
          kind: 'notification',
          method: 'Log',
          params: { fd: 1, data: 'hi', t: 1.5, seq: 3 },
        },
      },
      {
        name: 'notification with array params and a tag',
        raw: '{"method":"DB.Store","params":["q",1,"x"],"tag":"z"}',
        want: { kind: 'notification', method: 'DB.Store', params: ['q', 1, 'x'], tag: 'z' },
      },
      {
        name: 'notification with null params',
        raw: '{"method":"DB.Save","params":null}',
        want: { kind: 'notification', method: 'DB.Save', params: null },
      },
      {
        name: 'jsonrpc 2.0 accepted, not required, not returned',
        raw: '{"jsonrpc":"2.0","id":2,"method":"X","params":[]}',
        want: { kind: 'request', id: 2, method: 'X', params: [] },
      },
      {
        name: 'src, dst and key are ignored',
        raw: '{"id":3,"src":"other-device","dst":"someone","key":"k","method":"X"}',
        want: { kind: 'request', id: 3, method: 'X', params: undefined },
      },
      {
        name: 'reply with a result',
        raw: '{"id":7,"src":"dev1","result":{"fw_version":"1.0"}}',
        want: { kind: 'reply', id: 7, result: { fw_version: '1.0' } },
      },
      {
        name: 'reply with a null result',
        raw: '{"id":7,"result":null}',
        want: { kind: 'reply', id: 7, result: null },
      },
      {
        name: 'reply with result false',
        raw: '{"id":7,"result":false}',
        want: { kind: 'reply', id: 7, result: false },
      },
      {
        name: 'reply with "error": null means success',
        raw: '{"id":7,"result":3,"error":null}',
        want: { kind: 'reply', id: 7, result: 3 },
      },
      {
        name: 'reply with only "error": null resolves to null',
        raw: '{"id":7,"error":null}',
        want: { kind: 'reply', id: 7, result: null },
      },
      {
        name: 'reply with a well-formed error',
        raw: '{"id":8,"error":{"code":404,"message":"no such file"}}',
        want: { kind: 'reply', id: 8, error: { code: 404, message: 'no such file' } },
      },
      {
        name: 'reply error keeps data',
        raw: '{"id":8,"error":{"code":-1,"message":"m","data":{"x":1}},"tag":5}',
        want: { kind: 'reply', id: 8, error: { code: -1, message: 'm', data: { x: 1 } }, tag: 5 },
      },
      {
        name: 'an error wins over a result',
        raw: '{"id":8,"result":1,"error":{"code":1,"message":"m"}}',
        want: { kind: 'reply', id: 8, error: { code: 1, message: 'm' } },
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        expect(decode(c.raw)).toStrictEqual(c.want);
        expect(decode(Buffer.from(c.raw))).toStrictEqual(c.want);
      });
    }
  });

  describe('malformed errors are normalised, the reply is kept', () => {
    const cases: Array<{ name: string; error: unknown; message: string }> = [
      { name: 'a string', error: 'boom', message: 'boom' },
      { name: 'a number', error: 500, message: '500' },
      { name: 'message without code', error: { message: 'bad' }, message: 'bad' },
      { name: 'code as a string', error: { code: '404', message: 'nf' }, message: 'nf' },
      {
        name: 'message as a number',
        error: { code: 1, message: 2 },
        message: '{"code":1,"message":2}',
      },
      { name: 'an empty object', error: {}, message: '{}' },
      { name: 'an array', error: [1], message: '1' },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const f = decode(JSON.stringify({ id: 9, error: c.error }));
        expect(f.kind).toBe('reply');
        if (f.kind !== 'reply') return;
        expect(f.id).toBe(9);
        expect(f.error?.code).toBe(NONSTANDARD_ERROR_CODE);
        expect(f.error?.message).toBe(c.message);
      });
    }
  });

  describe('junk is classified, never thrown', () => {
    const cases: Array<{ name: string; raw: string | Buffer; reason: JunkReason }> = [
      { name: 'empty text', raw: '', reason: 'invalid_json' },
      { name: 'not JSON', raw: 'hello', reason: 'invalid_json' },
      { name: 'truncated JSON', raw: '{"id":1,"method":"X"', reason: 'invalid_json' },
      { name: 'two objects in one frame', raw: '{"id":1}{"id":2}', reason: 'invalid_json' },
      {
        name: 'invalid UTF-8 bytes',
        raw: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
        reason: 'invalid_utf8',
      },
      { name: 'a JSON array (batch)', raw: '[{"id":1,"method":"X"}]', reason: 'not_object' },
      { name: 'a JSON string', raw: '"{}"', reason: 'not_object' },
      { name: 'a JSON number', raw: '42', reason: 'not_object' },
      { name: 'JSON null', raw: 'null', reason: 'not_object' },
      { name: 'method is a number', raw: '{"id":1,"method":5}', reason: 'bad_types' },
      { name: 'method is empty', raw: '{"method":""}', reason: 'bad_types' },
      { name: 'method is null', raw: '{"method":null,"params":1}', reason: 'bad_types' },
      { name: 'method is an object', raw: '{"method":{"name":"X"}}', reason: 'bad_types' },
      { name: 'id is an object', raw: '{"id":{"n":1},"method":"X"}', reason: 'bad_types' },
      { name: 'id is an array', raw: '{"id":[1],"result":1}', reason: 'bad_types' },
      { name: 'id is a boolean', raw: '{"id":true,"result":1}', reason: 'bad_types' },
      { name: 'id is null', raw: '{"id":null,"method":"X"}', reason: 'bad_types' },
      { name: 'id overflows to Infinity', raw: '{"id":1e999,"result":1}', reason: 'bad_types' },
      {
        name: 'id-less error (Arduino)',
        raw: '{"error":{"code":-32700,"message":"parse error"}}',
        reason: 'idless_error',
      },
      { name: 'id-less error with a src', raw: '{"src":"d1","error":"x"}', reason: 'idless_error' },
      { name: 'id-less result', raw: '{"result":1}', reason: 'unclassified' },
      { name: 'an empty object', raw: '{}', reason: 'unclassified' },
      {
        name: 'only routing keys',
        raw: '{"src":"a","dst":"b","jsonrpc":"2.0"}',
        reason: 'unclassified',
      },
      { name: 'an id and nothing else', raw: '{"id":4,"params":{}}', reason: 'unclassified' },
      {
        name: 'method under __proto__ is not a method',
        raw: '{"__proto__":{"method":"X","id":1}}',
        reason: 'unclassified',
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        expect(junkReason(decode(c.raw))).toBe(c.reason);
      });
    }

    it('a 1 MB frame is too_large, decided by size before parsing', () => {
      const big = `{"method":"Log","params":"${'x'.repeat(1024 * 1024)}"}`;
      const f = decode(big);
      expect(junkReason(f)).toBe('too_large');
      if (f.kind === 'junk') expect(f.detail).toContain(String(Buffer.byteLength(big)));
      // Also when it is not JSON at all: no parse is attempted, so the reason stays too_large.
      expect(junkReason(decode(Buffer.alloc(1024 * 1024, 0x41)))).toBe('too_large');
    });

    it('the limit counts bytes: exactly maxBytes passes, one more is too_large', () => {
      const frame = (n: number): string => `{"method":"Log","params":"${'é'.repeat(n)}"}`;
      const envelope = Buffer.byteLength(frame(0));
      const atLimit = frame((MAX - envelope) / 2); // each é is 2 bytes
      expect(Buffer.byteLength(atLimit)).toBe(MAX);
      expect(decode(atLimit).kind).toBe('notification');
      expect(decode(Buffer.from(atLimit)).kind).toBe('notification');
      const over = `${atLimit} `; // trailing whitespace is still valid JSON
      expect(Buffer.byteLength(over)).toBe(MAX + 1);
      expect(junkReason(decode(over))).toBe('too_large');
      expect(junkReason(decode(Buffer.from(over)))).toBe('too_large');
    });

    describe('a reply to one of our calls may be up to maxReplyBytes (PROTOCOL.md 2)', () => {
      const MAX_REPLY = 64 * 1024;
      const pending = new Set<string | number>([7]);
      const large = {
        maxReplyBytes: MAX_REPLY,
        isPending: (id: string | number) => pending.has(id),
      };
      const sized = (head: string, n: number): string => {
        const frame = (k: number): string => `${head}"${'x'.repeat(k)}"}`;
        return frame(n - Buffer.byteLength(frame(0)));
      };
      const decodeLarge = (raw: string): DecodedFrame =>
        decodeDeviceFrame(Buffer.from(raw), MAX, large);

      it('exactly maxReplyBytes is delivered, one byte more is too_large', () => {
        const atLimit = sized('{"id":7,"result":', MAX_REPLY);
        expect(Buffer.byteLength(atLimit)).toBe(MAX_REPLY);
        expect(decodeLarge(atLimit)).toMatchObject({ kind: 'reply', id: 7 });
        const errorReply = sized('{"id":7,"error":{"code":1,"message":"m"},"x":', MAX_REPLY);
        expect(decodeLarge(errorReply)).toMatchObject({ kind: 'reply', id: 7 });
        const over = sized('{"id":7,"result":', MAX_REPLY + 1);
        expect(junkReason(decodeLarge(over))).toBe('too_large');
      });

      it('only replies whose id is pending; anything else over maxMessageBytes is too_large', () => {
        const size = MAX + 1;
        expect(junkReason(decodeLarge(sized('{"id":8,"result":', size)))).toBe('too_large');
        expect(junkReason(decodeLarge(sized('{"id":"7","result":', size)))).toBe('too_large');
        // A request or notification that reuses a pending id is still over the message limit.
        expect(junkReason(decodeLarge(sized('{"id":7,"method":"Log","params":', size)))).toBe(
          'too_large',
        );
        expect(junkReason(decodeLarge(sized('{"method":"Log","params":', size)))).toBe('too_large');
        // Not JSON at all: too_large, not invalid_json (the size is what disqualifies it).
        expect(junkReason(decodeLarge('{'.repeat(size)))).toBe('too_large');
        // Without the option (or a limit at or below maxBytes), the 8 KB limit holds for all.
        const reply = sized('{"id":7,"result":', size);
        expect(junkReason(decodeDeviceFrame(reply, MAX))).toBe('too_large');
        expect(junkReason(decodeDeviceFrame(reply, MAX, { ...large, maxReplyBytes: MAX }))).toBe(
          'too_large',
        );
      });
    });

    it('deep junk is handled without throwing', () => {
      const depth = 200_000;
      const deepArray = '['.repeat(depth) + ']'.repeat(depth);
      expect(() => decode(deepArray, 1e9)).not.toThrow();
      expect(junkReason(decode(deepArray, 1e9))).toMatch(/^(not_object|invalid_json)$/);
      const deepParams = `{"method":"X","params":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;
      expect(() => decode(deepParams, 1e9)).not.toThrow();
      const f = decode(deepParams, 1e9);
      expect(['notification', 'junk']).toContain(f.kind);
    });

    it('junk details never copy a large frame into the log', () => {
      const f = decode(`{"error":"${'y'.repeat(5000)}"}`);
      expect(junkReason(f)).toBe('idless_error');
    });

    it('input that is neither a string nor a Buffer is junk, not an exception', () => {
      const f = decodeDeviceFrame(42 as unknown as string, MAX);
      expect(f.kind).toBe('junk');
    });
  });
});

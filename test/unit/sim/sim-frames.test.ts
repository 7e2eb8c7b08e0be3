import { describe, expect, it } from 'vitest';
import {
  GARBAGE_KINDS,
  OVERSIZE_FRAME_BYTES,
  encodeNotification,
  encodeReply,
  encodeRequest,
  garbageFrame,
  parseHubFrame,
} from '../../../src/main/sim/sim-frames';

describe('device-side frames', () => {
  it('classifies calls, notifications and replies; ignores src/dst/key', () => {
    expect(
      parseHubFrame('{"id":3,"method":"FS.List","src":"$sys/d1","dst":"x","key":"k","tag":"t"}'),
    ).toEqual({
      kind: 'call',
      id: 3,
      method: 'FS.List',
      params: undefined,
      tag: 't',
    });
    expect(parseHubFrame('{"method":"Shadow.Delta","params":{"state":{}}}')).toEqual({
      kind: 'notification',
      method: 'Shadow.Delta',
      params: { state: {} },
    });
    expect(parseHubFrame('{"id":7,"result":null}')).toEqual({
      kind: 'reply',
      id: 7,
      result: null,
      error: undefined,
    });
    expect(parseHubFrame('{"id":7,"error":{"code":-1}}')).toEqual({
      kind: 'reply',
      id: 7,
      result: undefined,
      error: { code: -1, message: '' },
    });
  });

  it('marks everything else bad, including id-less errors that must never be answered', () => {
    for (const text of [
      'not json',
      '[1,2]',
      '"str"',
      'null',
      '{"error":{"code":1,"message":"x"}}',
      '{"id":1}',
      '{"method":5}',
      '{"method":""}',
      '{"id":{"x":1},"method":"A"}',
      '{"id":1,"error":"boom"}',
    ]) {
      expect(parseHubFrame(text).kind, text).toBe('bad');
    }
  });

  it('encodes as firmware does: no jsonrpc, no dst, tag copied only when present', () => {
    expect(JSON.parse(encodeReply(4, 'abc', { result: [1] }))).toEqual({
      id: 4,
      tag: 'abc',
      result: [1],
    });
    expect(JSON.parse(encodeReply(4, undefined, { result: null }))).toEqual({
      id: 4,
      result: null,
    });
    expect(
      JSON.parse(
        encodeReply('s', undefined, { error: { code: -32601, message: 'method not found' } }),
      ),
    ).toEqual({
      id: 's',
      error: { code: -32601, message: 'method not found' },
    });
    expect(encodeRequest(9, 'Dash.Shadow.Get')).toBe('{"id":9,"method":"Dash.Shadow.Get"}');
    expect(encodeNotification('DB.NewData', true)).toBe('{"method":"DB.NewData","params":true}');
    for (const text of [
      encodeReply(1, 't', { result: 1 }),
      encodeRequest(1, 'X', {}),
      encodeNotification('Y', 1),
    ]) {
      expect(text).not.toContain('jsonrpc');
      expect(text).not.toContain('"dst"');
    }
  });

  it('garbage frames are each something the hub must drop', () => {
    expect(() => JSON.parse(garbageFrame('invalid-json'))).toThrow();
    const idless = JSON.parse(garbageFrame('idless-error')) as Record<string, unknown>;
    expect(idless.id).toBeUndefined();
    expect(idless.error).toBeDefined();
    const big = garbageFrame('oversize');
    expect(Buffer.byteLength(big)).toBe(OVERSIZE_FRAME_BYTES);
    expect(() => JSON.parse(big)).not.toThrow();
    expect(GARBAGE_KINDS).toHaveLength(3);
  });
});

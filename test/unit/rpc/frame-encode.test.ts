import { describe, expect, it } from 'vitest';
import { encodeCall, encodeError, encodeResult } from '../../../src/main/rpc/frame-encode';
import { decodeDeviceFrame } from '../../../src/main/rpc/frame-codec';

const parse = (s: string): Record<string, unknown> => JSON.parse(s) as Record<string, unknown>;

describe('frame encoding (PROTOCOL.md 2)', () => {
  it('encodeCall: id, method, params, src; never dst or jsonrpc', () => {
    const f = parse(encodeCall(3, 'Sys.GetInfo', { utc_time: 1700000000 }, '$sys/dev1'));
    expect(f).toStrictEqual({
      id: 3,
      method: 'Sys.GetInfo',
      params: { utc_time: 1700000000 },
      src: '$sys/dev1',
    });
  });
  it('encodeCall omits params when undefined, keeps null and falsy params', () => {
    expect(parse(encodeCall(1, 'OTA.End', undefined, '$sys/d'))).toStrictEqual({
      id: 1,
      method: 'OTA.End',
      src: '$sys/d',
    });
    expect(parse(encodeCall(1, 'X', null, '$sys/d'))['params']).toBeNull();
    expect(parse(encodeCall(1, 'X', 0, '$sys/d'))['params']).toBe(0);
    expect(parse(encodeCall(1, 'X', false, '$sys/d'))['params']).toBe(false);
  });
  it('encodeResult echoes the tag only when defined', () => {
    expect(parse(encodeResult(4, true))).toStrictEqual({ id: 4, result: true });
    expect(parse(encodeResult('s1', { a: 1 }, { t: 9 }))).toStrictEqual({
      id: 's1',
      result: { a: 1 },
      tag: { t: 9 },
    });
    expect(parse(encodeResult(4, null, null))).toStrictEqual({ id: 4, result: null, tag: null });
    expect(parse(encodeResult(0, false, 0))).toStrictEqual({ id: 0, result: false, tag: 0 });
  });
  it('encodeError: {id, error:{code,message}} plus the tag', () => {
    expect(parse(encodeError(5, -32601, 'method not found'))).toStrictEqual({
      id: 5,
      error: { code: -32601, message: 'method not found' },
    });
    expect(parse(encodeError('x', 409, 'version', 'tg'))).toStrictEqual({
      id: 'x',
      error: { code: 409, message: 'version' },
      tag: 'tg',
    });
  });
  it('no encoder ever emits dst or jsonrpc', () => {
    for (const s of [
      encodeCall(1, 'X', { dst: 'inside params is fine' }, '$sys/d'),
      encodeResult(1, 1, 't'),
      encodeError(1, 1, 'm', 't'),
    ]) {
      const f = parse(s);
      expect(Object.hasOwn(f, 'dst')).toBe(false);
      expect(Object.hasOwn(f, 'jsonrpc')).toBe(false);
    }
  });
  it('what we encode, the decoder reads back as the same frame (round trip)', () => {
    expect(decodeDeviceFrame(encodeCall(7, 'FS.List', undefined, '$sys/d'), 8192)).toStrictEqual({
      kind: 'request',
      id: 7,
      method: 'FS.List',
      params: undefined,
    });
    expect(decodeDeviceFrame(encodeResult(7, [1, 2], 'tg'), 8192)).toStrictEqual({
      kind: 'reply',
      id: 7,
      result: [1, 2],
      tag: 'tg',
    });
    expect(decodeDeviceFrame(encodeError(7, -32601, 'method not found'), 8192)).toStrictEqual({
      kind: 'reply',
      id: 7,
      error: { code: -32601, message: 'method not found' },
    });
  });
});

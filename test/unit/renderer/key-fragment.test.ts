import { describe, expect, it } from 'vitest';
import { parseKeyFragment } from '../../../src/renderer/lib/key-fragment';

describe('parseKeyFragment', () => {
  it('reads the key `fleetbench serve` prints', () => {
    expect(parseKeyFragment('#key=abc123')).toEqual({ key: 'abc123', rest: '' });
    expect(parseKeyFragment('#key=a%2Bb')).toEqual({ key: 'a+b', rest: '' });
  });

  it('keeps a route given next to the key', () => {
    expect(parseKeyFragment('#key=k&route=/devices/d1')).toEqual({
      key: 'k',
      rest: '#/devices/d1',
    });
  });

  it('leaves route fragments and empty fragments alone', () => {
    expect(parseKeyFragment('#/devices/x')).toEqual({ key: null, rest: '#/devices/x' });
    expect(parseKeyFragment('')).toEqual({ key: null, rest: '' });
    expect(parseKeyFragment('#key=')).toEqual({ key: null, rest: '' });
    expect(parseKeyFragment('#other=1')).toEqual({ key: null, rest: '' });
  });
});

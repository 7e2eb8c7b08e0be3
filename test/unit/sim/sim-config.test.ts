import { describe, expect, it } from 'vitest';
import { SimConfig, getAtKey, mergeInto, patchForKey } from '../../../src/main/sim/sim-config';
import type { JsonObject } from '../../../src/shared/types';

describe('sim config', () => {
  it('merges recursively and deletes null keys', () => {
    const t: JsonObject = { a: { b: 1, c: 2 }, d: [1, 2], e: 'x' };
    mergeInto(t, { a: { b: 5, c: null }, d: [3], f: { g: true }, e: null });
    expect(t).toEqual({ a: { b: 5 }, d: [3], f: { g: true } });
  });

  it('reads dotted keys and builds dotted patches', () => {
    const c = { wifi: { sta: { ssid: 'x' } } };
    expect(getAtKey(c, 'wifi.sta.ssid')).toBe('x');
    expect(getAtKey(c, 'wifi.ap')).toBeUndefined();
    expect(getAtKey(c, 'wifi.sta.ssid.more')).toBeUndefined();
    expect(patchForKey('debug.level', 3)).toEqual({ debug: { level: 3 } });
  });

  it('keeps unsaved changes only until reload (reboot)', () => {
    const cfg = new SimConfig({ debug: { level: 2 } });
    cfg.set({ debug: { level: 3 } });
    expect(cfg.get('debug.level')).toBe(3);
    cfg.reload();
    expect(cfg.get('debug.level')).toBe(2);
    cfg.set({ debug: { level: 4 } });
    cfg.save();
    cfg.reload();
    expect(cfg.get('debug.level')).toBe(4);
  });

  it('returns copies, so callers cannot change the config behind its back', () => {
    const cfg = new SimConfig({ a: { b: 1 } });
    const whole = cfg.get() as JsonObject;
    (whole.a as JsonObject).b = 99;
    expect(cfg.get('a.b')).toBe(1);
  });
});

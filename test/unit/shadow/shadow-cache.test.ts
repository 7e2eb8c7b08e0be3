/**
 * The shadow cache's two views (src/main/shadow/shadow-cache.ts, issue 7 item 6): writers build on
 * every change at once; readers see a change only once its commit has resolved.
 */
import { describe, expect, it } from 'vitest';
import { ShadowCache } from '../../../src/main/shadow/shadow-cache';
import { emptyShadow } from '../../../src/main/shadow/shadow';
import type { ShadowDoc } from '../../../src/shared/types';

const v = (version: number): ShadowDoc => ({ ...emptyShadow(version), version });

describe('ShadowCache', () => {
  it('readers see a write only once it is committed; writers see it at once', () => {
    const c = new ShadowCache();
    c.load('d', v(0));
    const w1 = c.begin('d', v(1));
    const w2 = c.begin('d', v(2));
    expect(c.latest('d')?.version).toBe(2);
    expect(c.committed('d')?.version).toBe(0);
    expect(c.isIdle('d')).toBe(false);
    expect(c.settle(w1, true)).toBe(true);
    expect(c.committed('d')?.version).toBe(1);
    expect(c.latest('d')?.version).toBe(2);
    c.settle(w2, true);
    expect(c.committed('d')?.version).toBe(2);
    expect(c.isIdle('d')).toBe(true);
  });

  it('a failed commit leaves readers the committed document and writers build on it', () => {
    const c = new ShadowCache();
    c.load('d', v(0));
    const w1 = c.begin('d', v(1));
    c.settle(w1, false);
    expect(c.committed('d')?.version).toBe(0);
    expect(c.latest('d')?.version).toBe(0);
  });

  it('load keeps what is cached (never replaces a view with an older disk copy)', () => {
    const c = new ShadowCache();
    c.load('d', v(0));
    c.begin('d', v(1));
    expect(c.load('d', v(0)).latest.version).toBe(1);
  });

  it('evictIfIdle keeps a device with a write in flight; forget drops it and its writes settle into nothing', () => {
    const c = new ShadowCache();
    c.load('d', v(0));
    const w = c.begin('d', v(1));
    c.evictIfIdle('d');
    expect(c.latest('d')?.version).toBe(1);
    c.forget('d');
    expect(c.views('d')).toBeUndefined();
    // Created again under the same id: the old write must not show up there.
    c.load('d', v(0));
    expect(c.settle(w, true)).toBe(false);
    expect(c.committed('d')?.version).toBe(0);
    expect(c.latest('d')?.version).toBe(0);
    c.evictIfIdle('d');
    expect(c.views('d')).toBeUndefined();
  });

  it("committedJson is the text of the committed document's write, kept across a failed write", () => {
    const c = new ShadowCache();
    c.load('d', v(0));
    expect(c.committedJson('d')).toBeUndefined(); // loaded from disk: no text carried
    const w1 = c.begin('d', v(1), '{"v":1}');
    expect(c.committedJson('d')).toBeUndefined(); // not committed yet
    c.settle(w1, true);
    expect(c.committedJson('d')).toBe('{"v":1}');
    const w2 = c.begin('d', v(2), '{"v":2}');
    c.settle(w2, false);
    expect(c.committed('d')?.version).toBe(1);
    expect(c.committedJson('d')).toBe('{"v":1}');
    c.settle(c.begin('d', v(3)), true); // a write without text: none, never a stale one
    expect(c.committedJson('d')).toBeUndefined();
  });

  it('begin on a device that is not loaded is a programming error', () => {
    expect(() => new ShadowCache().begin('nope', v(1))).toThrow(/not loaded/);
  });
});

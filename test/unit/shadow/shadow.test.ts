import { describe, expect, it } from 'vitest';
import {
  applyShadowUpdate,
  emptyShadow,
  replaceReportedSubtree,
  setReported,
  shadowBytes,
  type ShadowResult,
} from '../../../src/main/shadow/shadow';
import { MAX_SHADOW_DEPTH } from '../../../src/main/shadow/shadow-schema';
import { HubError } from '../../../src/shared/errors';
import type { ShadowDoc } from '../../../src/shared/types';

const LIMIT = 8 * 1024;
const opts = { nowSec: 1_700_000_100, maxBytes: LIMIT };

function ok(r: ShadowResult): Extract<ShadowResult, { ok: true }> {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.kind}: ${r.error.message}`);
  return r;
}
function err(r: ShadowResult): HubError {
  if (r.ok) throw new Error('expected an error');
  return r.error;
}

/** A document built through the public API, at version 2. */
function sample(): ShadowDoc {
  let doc = emptyShadow(1_700_000_000);
  doc = ok(
    applyShadowUpdate(doc, { state: { reported: { led: { on: false }, fw: '1.0' } } }, opts),
  ).doc;
  doc = ok(
    applyShadowUpdate(
      doc,
      { state: { desired: { led: { on: true } } }, tags: { labels: 'lab' } },
      opts,
    ),
  ).doc;
  return doc;
}

describe('emptyShadow', () => {
  it('is version 0 with empty parts and the given timestamp', () => {
    expect(emptyShadow(42)).toEqual({
      state: { desired: {}, reported: {}, delta: {} },
      tags: {},
      version: 0,
      timestamp: 42,
    });
  });
});

describe('applyShadowUpdate (PROTOCOL.md 3)', () => {
  it('merges desired and reported, regenerates the delta, bumps version and timestamp', () => {
    const doc = sample();
    expect(doc.version).toBe(2);
    expect(doc.state.delta).toEqual({ led: { on: true } });
    const r = ok(
      applyShadowUpdate(
        doc,
        { state: { reported: { led: { on: true } } } },
        { ...opts, nowSec: 5 },
      ),
    );
    expect(r.changed).toBe(true);
    expect(r.desiredTouched).toBe(false);
    expect(r.doc).toEqual({
      state: {
        desired: { led: { on: true } },
        reported: { led: { on: true }, fw: '1.0' },
        delta: {},
      },
      tags: { labels: 'lab' },
      version: 3,
      timestamp: 5,
    });
  });

  it('deletes nested keys set to null and prunes emptied objects', () => {
    const doc = sample();
    const r = ok(applyShadowUpdate(doc, { state: { reported: { led: { on: null } } } }, opts));
    expect(r.doc.state.reported).toEqual({ fw: '1.0' });
    expect(r.doc.state.delta).toEqual({ led: { on: true } });
  });

  it('merges tags, and null deletes a tag', () => {
    const doc = sample();
    const r1 = ok(applyShadowUpdate(doc, { tags: { room: 'b2', meta: { floor: 1 } } }, opts));
    expect(r1.doc.tags).toEqual({ labels: 'lab', room: 'b2', meta: { floor: 1 } });
    expect(r1.doc.version).toBe(doc.version + 1);
    const r2 = ok(
      applyShadowUpdate(r1.doc, { tags: { labels: null, meta: { floor: null } } }, opts),
    );
    expect(r2.doc.tags).toEqual({ room: 'b2' });
  });

  it('a null for the whole desired, reported or tags clears it', () => {
    const doc = sample();
    const r = ok(applyShadowUpdate(doc, { state: { desired: null } }, opts));
    expect(r.doc.state.desired).toEqual({});
    expect(r.doc.state.delta).toEqual({});
    expect(r.desiredTouched).toBe(true);
    expect(
      ok(applyShadowUpdate(doc, { state: { reported: null } }, opts)).doc.state.reported,
    ).toEqual({});
    expect(ok(applyShadowUpdate(doc, { tags: null }, opts)).doc.tags).toEqual({});
  });

  it('desiredTouched is true whenever the update has state.desired, even with no change', () => {
    const doc = sample();
    const r = ok(applyShadowUpdate(doc, { state: { desired: { led: { on: true } } } }, opts));
    expect(r.changed).toBe(false);
    expect(r.desiredTouched).toBe(true);
    expect(ok(applyShadowUpdate(doc, { tags: { x: 1 } }, opts)).desiredTouched).toBe(false);
  });

  describe('the version counts changes, not updates', () => {
    const noops: Array<{ name: string; update: unknown }> = [
      { name: 'an empty body', update: {} },
      { name: 'an empty state', update: { state: {} } },
      { name: 'the same reported value', update: { state: { reported: { fw: '1.0' } } } },
      { name: 'deleting a missing key', update: { state: { reported: { nope: null } } } },
      { name: 'an empty object', update: { state: { desired: { extra: {} } } } },
      { name: 'unknown top-level keys only', update: { hello: 'x', state: { delta: { a: 1 } } } },
      { name: 'the current version and nothing else', update: { version: 2 } },
    ];
    for (const c of noops) {
      it(`no change for ${c.name}: same doc, same version and timestamp`, () => {
        const doc = sample();
        const before = structuredClone(doc);
        const r = ok(applyShadowUpdate(doc, c.update, { ...opts, nowSec: 99 }));
        expect(r.changed).toBe(false);
        expect(r.doc).toBe(doc);
        expect(doc).toEqual(before);
      });
    }
    it('increments by exactly one per real change', () => {
      let doc = emptyShadow(0);
      for (let i = 1; i <= 5; i++) {
        const r = ok(
          applyShadowUpdate(doc, { state: { reported: { n: i } } }, { ...opts, nowSec: i }),
        );
        expect(r.doc.version).toBe(i);
        expect(r.doc.timestamp).toBe(i);
        doc = r.doc;
      }
    });
  });

  describe('optimistic version check', () => {
    it('applies an update carrying the current version', () => {
      const doc = sample();
      const r = ok(
        applyShadowUpdate(doc, { version: doc.version, state: { desired: { x: 1 } } }, opts),
      );
      expect(r.doc.version).toBe(doc.version + 1);
    });
    for (const v of [0, 1, 3, 1000]) {
      it(`refuses version ${v} against current 2 and leaves the doc untouched`, () => {
        const doc = sample();
        const before = structuredClone(doc);
        const e = err(applyShadowUpdate(doc, { version: v, state: { desired: { x: 1 } } }, opts));
        expect(e).toBeInstanceOf(HubError);
        expect(e.kind).toBe('version_conflict');
        expect(e.status).toBe(409);
        expect(e.message).toBe(`version ${v} does not match current 2`);
        expect(doc).toEqual(before);
      });
    }
  });

  describe('bad input is validation_failed and changes nothing', () => {
    const bad: Array<{ name: string; update: unknown; where: string }> = [
      { name: 'state is a string', update: { state: 'on' }, where: '/state' },
      { name: 'state is an array', update: { state: [] }, where: '/state' },
      { name: 'desired is an array', update: { state: { desired: [1] } }, where: '/state/desired' },
      { name: 'desired is a string', update: { state: { desired: 'x' } }, where: '/state/desired' },
      {
        name: 'reported is a number',
        update: { state: { reported: 1 } },
        where: '/state/reported',
      },
      { name: 'tags is an array', update: { tags: ['a'] }, where: '/tags' },
      { name: 'version is "1"', update: { version: '1' }, where: '/version' },
      { name: 'version is negative', update: { version: -1 }, where: '/version' },
      { name: 'version is fractional', update: { version: 1.5 }, where: '/version' },
      { name: 'version is null', update: { version: null }, where: '/version' },
      // Past 2^53 integers are not exact (a version check could pass by rounding); at 2^63 and
      // beyond they no longer fit the store's 64-bit integer.
      {
        name: 'version is 2^53',
        update: { version: Number.MAX_SAFE_INTEGER + 1 },
        where: '/version',
      },
      {
        name: 'version is 2^64',
        update: JSON.parse('{"version":18446744073709551616}'),
        where: '/version',
      },
      { name: 'version is 1e300', update: { version: 1e300 }, where: '/version' },
      { name: 'the body is an array', update: [], where: 'input' },
      { name: 'the body is null', update: null, where: 'input' },
      { name: 'the body is a string', update: '{"state":{}}', where: 'input' },
      { name: 'the body is undefined', update: undefined, where: 'input' },
    ];
    for (const c of bad) {
      it(c.name, () => {
        const doc = sample();
        const before = structuredClone(doc);
        const e = err(applyShadowUpdate(doc, c.update, opts));
        expect(e.kind).toBe('validation_failed');
        expect(e.status).toBe(400);
        expect(e.message).toContain(c.where);
        expect(doc).toEqual(before);
      });
    }

    it('the largest safe integer version is a valid update (a version conflict, not a 400)', () => {
      const e = err(
        applyShadowUpdate(sample(), { version: Number.MAX_SAFE_INTEGER, state: {} }, opts),
      );
      expect(e.kind).toBe('version_conflict');
    });

    it('validation comes before the version check', () => {
      expect(err(applyShadowUpdate(sample(), { version: 7, state: 'x' }, opts)).kind).toBe(
        'validation_failed',
      );
    });

    it('refuses nesting deeper than the limit, accepts it at the limit', () => {
      const nest = (depth: number): Record<string, unknown> => {
        let v: Record<string, unknown> = { leaf: 1 };
        for (let i = 1; i < depth; i++) v = { n: v };
        return v;
      };
      const atLimit = ok(
        applyShadowUpdate(emptyShadow(0), { state: { reported: nest(MAX_SHADOW_DEPTH) } }, opts),
      );
      expect(atLimit.changed).toBe(true);
      const e = err(
        applyShadowUpdate(
          emptyShadow(0),
          { state: { reported: nest(MAX_SHADOW_DEPTH + 1) } },
          opts,
        ),
      );
      expect(e.kind).toBe('validation_failed');
      expect(e.message).toContain('state.reported');
    });

    it('a hostile 100 000-deep body is refused, not a stack overflow', () => {
      let deep: unknown = 1;
      for (let i = 0; i < 100_000; i++) deep = { a: deep };
      const e = err(
        applyShadowUpdate(emptyShadow(0), { tags: deep }, { ...opts, maxBytes: 10_000_000 }),
      );
      expect(e.kind).toBe('validation_failed');
    });
  });

  describe('size limit at the edge (8 KB)', () => {
    /** An update whose resulting document is exactly `target` bytes, found by measuring. */
    function updateOfSize(target: number): unknown {
      const measure = (n: number): number =>
        shadowBytes(
          ok(
            applyShadowUpdate(
              emptyShadow(0),
              { state: { reported: { pad: 'x'.repeat(n) } } },
              { nowSec: 1, maxBytes: 1e9 },
            ),
          ).doc,
        );
      const n = 100 + (target - measure(100));
      expect(measure(n)).toBe(target);
      return { state: { reported: { pad: 'x'.repeat(n) } } };
    }

    it('a document of exactly maxBytes passes', () => {
      const r = ok(
        applyShadowUpdate(emptyShadow(0), updateOfSize(LIMIT), { nowSec: 1, maxBytes: LIMIT }),
      );
      expect(shadowBytes(r.doc)).toBe(LIMIT);
      expect(Buffer.byteLength(JSON.stringify(r.doc))).toBe(LIMIT);
    });

    it('a document of maxBytes + 1 is refused with shadow_too_large and the old doc kept', () => {
      const doc = emptyShadow(0);
      const before = structuredClone(doc);
      const e = err(
        applyShadowUpdate(doc, updateOfSize(LIMIT + 1), { nowSec: 1, maxBytes: LIMIT }),
      );
      expect(e.kind).toBe('shadow_too_large');
      expect(e.status).toBe(413);
      expect(e.message).toContain(String(LIMIT + 1));
      expect(doc).toEqual(before);
    });

    it('counts bytes, not characters', () => {
      // "é" is 2 bytes in UTF-8: 4100 of them exceed 8192 bytes, not 8192 chars.
      const update = { state: { reported: { s: 'é'.repeat(4100) } } };
      expect(JSON.stringify(update).length).toBeLessThan(LIMIT);
      expect(err(applyShadowUpdate(emptyShadow(0), update, opts)).kind).toBe('shadow_too_large');
    });

    it('an update that shrinks an oversized document is accepted', () => {
      // A document over a (since lowered) limit can still be cleaned up.
      const big = ok(
        applyShadowUpdate(emptyShadow(0), { state: { reported: { pad: 'x'.repeat(500) } } }, opts),
      ).doc;
      const r = ok(
        applyShadowUpdate(
          big,
          { state: { reported: { pad: null } } },
          { nowSec: 2, maxBytes: 200 },
        ),
      );
      expect(r.doc.state.reported).toEqual({});
    });
  });

  it('the returned document shares nothing mutable with the old one or the update', () => {
    const doc = sample();
    const update = { state: { desired: { list: [1] } } };
    const r = ok(applyShadowUpdate(doc, update, opts));
    (r.doc.state.desired['list'] as number[]).push(2);
    (r.doc.state.reported['led'] as Record<string, unknown>)['on'] = 'mutated';
    (r.doc.tags as Record<string, unknown>)['labels'] = 'mutated';
    expect(update.state.desired.list).toEqual([1]);
    expect(doc.state.reported['led']).toEqual({ on: false });
    expect(doc.tags['labels']).toBe('lab');
  });
});

describe("the changed document's JSON text (issue 11: encoded once per update)", () => {
  it('is exactly JSON.stringify(doc) for every kind of change, and absent without a change', () => {
    const base = sample();
    const results = [
      applyShadowUpdate(base, { state: { desired: { ключ: '😀' } }, tags: { t: [1] } }, opts),
      applyShadowUpdate(base, JSON.parse('{"state":{"reported":{"__proto__":{"a":1}}}}'), opts),
      setReported(base, { online: true }, opts.nowSec, LIMIT),
      replaceReportedSubtree(base, 'ota', { fw_version: '2.0' }, opts.nowSec, LIMIT),
    ];
    for (const r of results.map(ok)) {
      expect(r.changed).toBe(true);
      expect(r.json).toBe(JSON.stringify(r.doc));
    }
    const same = ok(applyShadowUpdate(base, { state: { reported: { fw: '1.0' } } }, opts));
    expect(same.changed).toBe(false);
    expect(same.json).toBeUndefined();
  });
});

describe('setReported (hub-owned fields)', () => {
  it('merges into reported without a version check', () => {
    const doc = sample();
    const r = ok(setReported(doc, { online: true }, 77, LIMIT));
    expect(r.changed).toBe(true);
    expect(r.desiredTouched).toBe(false);
    expect(r.doc.state.reported).toEqual({ led: { on: false }, fw: '1.0', online: true });
    expect(r.doc.version).toBe(doc.version + 1);
    expect(r.doc.timestamp).toBe(77);
    expect(r.doc.state.desired).toEqual(doc.state.desired);
  });
  it('setting the same value again is no change', () => {
    const on = ok(setReported(sample(), { online: true }, 1, LIMIT)).doc;
    const again = ok(setReported(on, { online: true }, 2, LIMIT));
    expect(again.changed).toBe(false);
    expect(again.doc).toBe(on);
  });
  it('updates the delta when a reported value reaches the desired one', () => {
    const r = ok(setReported(sample(), { led: { on: true } }, 1, LIMIT));
    expect(r.doc.state.delta).toEqual({});
  });
  it('respects the size limit', () => {
    const doc = sample();
    expect(err(setReported(doc, { pad: 'x'.repeat(LIMIT) }, 1, LIMIT)).kind).toBe(
      'shadow_too_large',
    );
  });
});

describe('replaceReportedSubtree (PROTOCOL.md 1 step 3: reported.ota)', () => {
  it('replaces the subtree instead of merging into it', () => {
    let doc = ok(setReported(sample(), { ota: { fw_version: '1.0', old_field: 1 } }, 1, LIMIT)).doc;
    const r = ok(
      replaceReportedSubtree(doc, 'ota', { fw_version: '2.0', arch: 'esp32' }, 2, LIMIT),
    );
    expect(r.doc.state.reported['ota']).toEqual({ fw_version: '2.0', arch: 'esp32' });
    expect(r.doc.state.reported['fw']).toBe('1.0');
    expect(r.doc.version).toBe(doc.version + 1);
    doc = r.doc;
    const same = ok(
      replaceReportedSubtree(doc, 'ota', { arch: 'esp32', fw_version: '2.0' }, 3, LIMIT),
    );
    expect(same.changed).toBe(false);
  });
  it('drops nulls inside the value and removes the key for null', () => {
    const doc = sample();
    const r = ok(replaceReportedSubtree(doc, 'ota', { public_key: null, id: 'd1' }, 1, LIMIT));
    expect(r.doc.state.reported['ota']).toEqual({ id: 'd1' });
    const gone = ok(replaceReportedSubtree(r.doc, 'ota', null, 2, LIMIT));
    expect(Object.hasOwn(gone.doc.state.reported, 'ota')).toBe(false);
  });
  it('accepts scalar and array values', () => {
    const r = ok(replaceReportedSubtree(sample(), 'ota', ['a'], 1, LIMIT));
    expect(r.doc.state.reported['ota']).toEqual(['a']);
  });
  it('respects the size limit and leaves the doc untouched', () => {
    const doc = sample();
    const before = structuredClone(doc);
    expect(err(replaceReportedSubtree(doc, 'ota', { big: 'x'.repeat(LIMIT) }, 1, LIMIT)).kind).toBe(
      'shadow_too_large',
    );
    expect(doc).toEqual(before);
  });
});

describe('hub-owned keys at the size limit (issue 7 item 1)', () => {
  /** A document of exactly `LIMIT` bytes with `reported.online: true`, built through the API. */
  function atLimitOnline(): ShadowDoc {
    const build = (n: number): ShadowDoc =>
      ok(
        setReported(
          ok(
            applyShadowUpdate(
              emptyShadow(0),
              { tags: { pad: 'x'.repeat(n) } },
              { nowSec: 1, maxBytes: 1e9 },
            ),
          ).doc,
          { online: true },
          2,
          1e9,
        ),
      ).doc;
    const n = 100 + (LIMIT - shadowBytes(build(100)));
    const doc = build(n);
    expect(shadowBytes(doc)).toBe(LIMIT);
    return doc;
  }

  it('online: false is accepted on a document at exactly the limit (one byte longer than true)', () => {
    const doc = atLimitOnline();
    const r = ok(setReported(doc, { online: false }, 3, LIMIT));
    expect(r.doc.state.reported['online']).toBe(false);
    expect(shadowBytes(r.doc)).toBe(LIMIT + 1);
    expect(r.doc.version).toBe(doc.version + 1);
  });

  it('reported.ota can be replaced on a document at the limit', () => {
    const doc = atLimitOnline();
    const r = ok(
      replaceReportedSubtree(doc, 'ota', { fw_version: '2.0', arch: 'esp32' }, 3, LIMIT),
    );
    expect(r.doc.state.reported['ota']).toEqual({ fw_version: '2.0', arch: 'esp32' });
    expect(shadowBytes(r.doc)).toBeGreaterThan(LIMIT);
  });

  it('a hub-owned value larger than the limit by itself is still refused', () => {
    const doc = atLimitOnline();
    const big = { big: 'x'.repeat(LIMIT) };
    expect(err(replaceReportedSubtree(doc, 'ota', big, 3, LIMIT)).kind).toBe('shadow_too_large');
    expect(err(setReported(doc, { ota: big }, 3, LIMIT)).kind).toBe('shadow_too_large');
  });

  it('a patch mixing hub-owned and other keys gets the normal check', () => {
    const doc = atLimitOnline();
    expect(err(setReported(doc, { online: false, extra: 1 }, 3, LIMIT)).kind).toBe(
      'shadow_too_large',
    );
  });

  it('over the limit by hub-owned content: updates that do not grow it pass, growing ones do not', () => {
    const over = ok(setReported(atLimitOnline(), { online: false }, 3, LIMIT)).doc;
    expect(shadowBytes(over)).toBe(LIMIT + 1);
    const same = ok(applyShadowUpdate(over, { tags: { pad: 'y' } }, opts));
    expect(shadowBytes(same.doc)).toBeLessThanOrEqual(shadowBytes(over));
    const grow = applyShadowUpdate(over, { tags: { more: 1 } }, opts);
    expect(err(grow).kind).toBe('shadow_too_large');
  });
});

/**
 * The pure import planner (src/main/import/import-plan.ts, shadow-diff.ts): the action for one
 * source device or customer against the local copy, and the shadow update that makes the local
 * shadow equal the source's. A plan applied and planned again must be `unchanged`.
 */
import { describe, expect, it } from 'vitest';
import {
  emailKey,
  planCustomer,
  planDevice,
  type PlanDevice,
} from '../../../src/main/import/import-plan';
import { mergeDiff, shadowUpdate, storedParts } from '../../../src/main/import/shadow-diff';
import { mergePatch } from '../../../src/main/shadow/shadow-merge';
import type { JsonObject } from '../../../src/shared/types';

const src: PlanDevice = {
  id: 'd1',
  name: 'Pump',
  token: 'tok-source-1',
  acl: { public_key: 'pk1', rpc: 'Sys.*' },
  shadow: {
    state: { desired: { led: 1 }, reported: { temp: 20, online: true, ota: { fw_id: 'x' } } },
    tags: { labels: 'a,b' },
  },
};

/** The local device after applying a create or update action, as the hub would store it. */
function applied(local: PlanDevice | undefined, source: PlanDevice): PlanDevice {
  const a = planDevice(source, local, { overwrite: true });
  if (a.kind === 'unchanged' || a.kind === 'conflict') return local as PlanDevice;
  const base: PlanDevice =
    a.kind === 'update' ? (local as PlanDevice) : { id: a.id, name: a.name, token: a.token };
  const patch = a.patch ?? {};
  const parts = storedParts(base.shadow);
  const s = (patch.shadow ?? {}) as {
    state?: { desired?: JsonObject; reported?: JsonObject };
    tags?: JsonObject;
  };
  return {
    ...base,
    ...(patch.name !== undefined && { name: patch.name }),
    acl: patch.acl ?? base.acl ?? {},
    shadow: {
      state: {
        desired: mergePatch(parts.desired, s.state?.desired ?? {}),
        reported: mergePatch(parts.reported, s.state?.reported ?? {}),
      },
      tags: mergePatch(parts.tags, s.tags ?? {}),
    },
  };
}

describe('planDevice', () => {
  it('creates a missing device with its password, ACL and shadow, never the hub-owned keys', () => {
    const a = planDevice(src, undefined, { overwrite: false });
    expect(a).toEqual({
      kind: 'create',
      id: 'd1',
      name: 'Pump',
      token: 'tok-source-1',
      patch: {
        acl: { public_key: 'pk1', rpc: 'Sys.*' },
        shadow: { state: { desired: { led: 1 }, reported: { temp: 20 } }, tags: { labels: 'a,b' } },
      },
    });
  });

  it('plans nothing for a device created from the same source (idempotent)', () => {
    const local = applied(undefined, src);
    // The device then connected here: its own online/ota do not count as a difference.
    const state = local.shadow?.state as { reported: JsonObject };
    state.reported = { ...state.reported, online: true, ota: { fw_id: 'y' } };
    expect(planDevice(src, local, { overwrite: false })).toEqual({ kind: 'unchanged', id: 'd1' });
  });

  it('updates exactly the differing fields, deleting keys the source no longer has', () => {
    const local: PlanDevice = {
      ...src,
      name: 'Old',
      shadow: { state: { desired: { led: 1, gone: 5 }, reported: { temp: 19 } }, tags: {} },
    };
    const a = planDevice(src, local, { overwrite: false });
    expect(a).toEqual({
      kind: 'update',
      id: 'd1',
      fields: ['name', 'shadow'],
      patch: {
        name: 'Pump',
        shadow: {
          state: { desired: { gone: null }, reported: { temp: 20 } },
          tags: { labels: 'a,b' },
        },
      },
    });
    expect(planDevice(src, applied(local, src), { overwrite: false }).kind).toBe('unchanged');
  });

  it('reports a local device with another password as a conflict, or replaces it with --overwrite', () => {
    const local: PlanDevice = { ...src, token: 'other-password' };
    const c = planDevice(src, local, { overwrite: false });
    expect(c.kind).toBe('conflict');
    expect(c.kind === 'conflict' && c.reason).toMatch(/another password.*--overwrite/);
    expect(planDevice(src, local, { overwrite: true }).kind).toBe('replace');
  });

  it('treats an absent name as the id and an absent ACL as empty', () => {
    const bare: PlanDevice = { id: 'd2', token: 'tok-2222' };
    expect(
      planDevice(bare, { id: 'd2', name: 'd2', token: 'tok-2222', acl: {} }, { overwrite: false })
        .kind,
    ).toBe('unchanged');
    const a = planDevice(bare, undefined, { overwrite: false });
    expect(a).toMatchObject({ kind: 'create', name: 'd2', patch: null });
  });
});

describe('shadow diff', () => {
  it('is null for equal objects and a merge patch otherwise', () => {
    expect(mergeDiff({ a: { b: 1 } }, { a: { b: 1 } })).toBeNull();
    const from = { a: { b: 1, c: [1, 2] }, x: 'gone', s: 'str' };
    const to = { a: { b: 2, c: [1] }, s: { now: 'object' } };
    const patch = mergeDiff(from, to);
    expect(mergePatch(from, patch ?? {})).toEqual(to);
  });

  it('stores a source shadow as the hub would (nulls and empty objects pruned)', () => {
    expect(
      storedParts({ state: { desired: { a: null, b: {}, c: 1 }, reported: null }, tags: null }),
    ).toEqual({ desired: { c: 1 }, reported: {}, tags: {} });
    expect(
      shadowUpdate({ state: { desired: { c: 1 } } }, { state: { desired: { c: 1, e: {} } } }),
    ).toBeNull();
  });
});

describe('planCustomer', () => {
  const c = {
    id: 'c1',
    email: 'a@example.com',
    token: 'ctok-123456',
    pubkeys: { pk1: {} },
    cconfig: { x: 1 },
  };

  it('creates a missing customer with its key', () => {
    expect(planCustomer(c, undefined, undefined, { overwrite: false })).toEqual({
      kind: 'create',
      id: 'c1',
      body: {
        email: 'a@example.com',
        pubkeys: { pk1: {} },
        cconfig: { x: 1 },
        token: 'ctok-123456',
      },
    });
  });

  it('compares emails as the hub stores them (customers/email.ts): case and spaces do not count', () => {
    expect(emailKey('  Ann@Example.COM ')).toBe('ann@example.com');
    expect(emailKey(' not an email ')).toBe('not an email');
    expect(
      planCustomer(c, { ...c, email: ' A@EXAMPLE.com\t' }, 'c1', { overwrite: false }).kind,
    ).toBe('unchanged');
  });

  it('is unchanged when equal, updates differing fields, and never takes over another email', () => {
    expect(planCustomer(c, { ...c, email: 'A@Example.com' }, 'c1', { overwrite: false }).kind).toBe(
      'unchanged',
    );
    expect(planCustomer(c, { ...c, cconfig: { x: 2 } }, 'c1', { overwrite: false })).toEqual({
      kind: 'update',
      id: 'c1',
      body: { cconfig: { x: 1 } },
      fields: ['cconfig'],
    });
    const taken = planCustomer(c, undefined, 'c9', { overwrite: true });
    expect(taken.kind).toBe('conflict');
  });

  it('reports another key as a conflict unless --overwrite; a source without keys never conflicts', () => {
    expect(planCustomer(c, { ...c, token: 'zzzzzzzzz' }, 'c1', { overwrite: false }).kind).toBe(
      'conflict',
    );
    expect(planCustomer(c, { ...c, token: 'zzzzzzzzz' }, 'c1', { overwrite: true }).kind).toBe(
      'replace',
    );
    const { token: _none, ...noKey } = c;
    expect(planCustomer(noKey, { ...c, token: 'zzzzzzzzz' }, 'c1', { overwrite: false }).kind).toBe(
      'unchanged',
    );
  });
});

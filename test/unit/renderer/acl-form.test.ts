import { describe, expect, it } from 'vitest';
import {
  aclFromForm,
  aclText,
  formFromAcl,
  generatePublicKey,
  parseAclText,
} from '../../../src/renderer/lib/acl-form';
import type { DeviceAcl } from '../../../src/shared/types';

describe('ACL form (PROTOCOL.md 8)', () => {
  it('reads string and array forms into one-per-line fields', () => {
    expect(
      formFromAcl({
        public_key: 'k1',
        shadow_read: '^\\.state\\.reported\\.',
        shadow_write: ['^\\.state\\.desired\\.on$', '^\\.tags\\.'],
        rpc: 'Sys.Reboot, MyDevice.*',
      }),
    ).toEqual({
      public_key: 'k1',
      shadow_read: '^\\.state\\.reported\\.',
      shadow_write: '^\\.state\\.desired\\.on$\n^\\.tags\\.',
      rpc: 'Sys.Reboot, MyDevice.*',
    });
    expect(formFromAcl({})).toEqual({ public_key: '', shadow_read: '', shadow_write: '', rpc: '' });
  });

  it('saves in the form the ACL was stored in, keeping the fields the form does not edit', () => {
    const stored: DeviceAcl = {
      shadow_read: 'a',
      shadow_write: ['b'],
      rpc: ['Sys.*'],
      data_read: { q: "SELECT * FROM data WHERE device_id='DEVICE_ID'" },
    };
    const out = aclFromForm(stored, {
      public_key: ' key ',
      shadow_read: 'x',
      shadow_write: 'y',
      rpc: 'Sys.*, Lamp.*',
    });
    expect(out).toEqual({
      public_key: 'key',
      shadow_read: 'x',
      shadow_write: ['y'],
      rpc: ['Sys.*', 'Lamp.*'],
      data_read: stored.data_read,
    });
    // A string rpc stays a comma-separated string; a regex field grows into an array.
    expect(
      aclFromForm(
        { rpc: 'A' },
        { public_key: '', shadow_read: 'a\n\nb', shadow_write: '', rpc: 'A, B' },
      ),
    ).toEqual({ shadow_read: ['a', 'b'], rpc: 'A,B' });
  });

  it('drops emptied fields; an emptied key stays "" only when it was stored', () => {
    const empty = { public_key: '', shadow_read: '', shadow_write: '', rpc: '' };
    expect(aclFromForm({ public_key: 'k', shadow_read: 'a', rpc: 'x' }, empty)).toEqual({
      public_key: '',
    });
    expect(aclFromForm({}, empty)).toEqual({});
  });

  it('parses raw text, refusing non-objects with a reason', () => {
    expect(parseAclText('{"rpc":"*"}')).toEqual({ ok: true, acl: { rpc: '*' } });
    expect(parseAclText('[1]')).toEqual({ ok: false, error: 'the ACL must be a JSON object' });
    const bad = parseAclText('{"rpc":');
    expect(bad.ok).toBe(false);
    expect(parseAclText(aclText({ public_key: 'k' }))).toEqual({
      ok: true,
      acl: { public_key: 'k' },
    });
  });

  it('generates 22-character URL-safe keys', () => {
    const key = generatePublicKey((b) => b.fill(0xfb));
    expect(key).toBe('-_v7-_v7-_v7-_v7-_v7-w');
    expect(key).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

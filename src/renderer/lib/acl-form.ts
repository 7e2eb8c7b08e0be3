/**
 * The device page's ACL tab (PROTOCOL.md 8) as a form and as raw JSON, kept in sync: the form's
 * fields from a stored ACL, the ACL to save from the form (every field the form does not edit,
 * such as `data_read`, kept as it was), and the raw text parsed back.
 *
 * The hub echoes an ACL exactly as it was stored, strings or arrays (PROTOCOL.md 8), so the form
 * keeps the stored form: a regex field stored as a string stays a string while it holds one
 * pattern, an `rpc` stored as a comma-separated string stays one.
 */
import type { DeviceAcl, Json } from '../../shared/types';

export interface AclForm {
  public_key: string;
  /** One regex per line. */
  shadow_read: string;
  shadow_write: string;
  /** Globs separated by commas (or new lines). */
  rpc: string;
}

type Stored = Json | undefined;

const patterns = (v: Stored): string[] =>
  typeof v === 'string'
    ? v === ''
      ? []
      : [v]
    : Array.isArray(v)
      ? v.filter((x): x is string => typeof x === 'string')
      : [];

const globs = (v: Stored): string[] =>
  (typeof v === 'string' ? v.split(',') : patterns(v)).map((g) => g.trim()).filter((g) => g);

export function formFromAcl(acl: DeviceAcl): AclForm {
  return {
    public_key: typeof acl.public_key === 'string' ? acl.public_key : '',
    shadow_read: patterns(acl.shadow_read).join('\n'),
    shadow_write: patterns(acl.shadow_write).join('\n'),
    rpc: globs(acl.rpc).join(', '),
  };
}

/** The non-empty lines of a regex field (a pattern may contain spaces and commas, so only lines split). */
export const formPatterns = (text: string): string[] =>
  text.split('\n').filter((line) => line.trim() !== '');

export const formGlobs = (text: string): string[] =>
  text
    .split(/[,\n]/)
    .map((g) => g.trim())
    .filter((g) => g);

/** `acl` with the form's fields; an emptied field is dropped, the others keep their stored form. */
export function aclFromForm(acl: DeviceAcl, form: AclForm): DeviceAcl {
  const out: DeviceAcl = { ...acl };
  const put = (key: string, value: Json | null): void => {
    if (value === null) delete out[key];
    else out[key] = value;
  };
  const regexField = (key: 'shadow_read' | 'shadow_write'): void => {
    const list = formPatterns(form[key]);
    put(
      key,
      list.length === 0
        ? null
        : list.length === 1 && !Array.isArray(acl[key])
          ? (list[0] as string)
          : list,
    );
  };
  const key = form.public_key.trim();
  // Empty means customer access off (PROTOCOL.md 8): absent and '' read the same, so keep '' only
  // when it was stored that way.
  put('public_key', key !== '' ? key : 'public_key' in acl ? '' : null);
  regexField('shadow_read');
  regexField('shadow_write');
  const rpc = formGlobs(form.rpc);
  put('rpc', rpc.length === 0 ? null : Array.isArray(acl.rpc) ? rpc : rpc.join(','));
  return out;
}

export type ParsedAcl = { ok: true; acl: DeviceAcl } | { ok: false; error: string };

/** The raw editor's text as an ACL object, or why it is not one. */
export function parseAclText(text: string): ParsedAcl {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `not JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, error: 'the ACL must be a JSON object' };
  }
  return { ok: true, acl: value as DeviceAcl };
}

export const aclText = (acl: DeviceAcl): string => JSON.stringify(acl, null, 2);

/**
 * A new device public key: 16 random bytes in base64url, 22 characters like mDash's keys, with no
 * `+` or `/` so it survives being pasted into a URL unescaped.
 */
export function generatePublicKey(random: (bytes: Uint8Array) => Uint8Array): string {
  const bytes = random(new Uint8Array(16));
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

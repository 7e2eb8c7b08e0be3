/**
 * The DNS upstream's port (issue 12): 1-65535, checked by the shared schema, so settings.json,
 * `serve --dns-upstream` and `PUT /api/v2/lan` (test/integration/lan/lan-services.test.ts) all
 * refuse `host:99999` with the same problem text and code.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLanFlags } from '../../../src/main/cli/lan-flags';
import { readSettings } from '../../../src/main/store/settings-file';
import { firstProblem } from '../../../src/main/validate';
import { HubError, ERRORS } from '../../../src/shared/errors';
import { LanSettingsPatchSchema } from '../../../src/shared/lan-schemas';

const PROBLEM = '/upstream: the port must be 1-65535';

describe('DNS upstream port range', () => {
  it('the schema takes 1 and 65535, refuses 0 and 65536 with one message', () => {
    expect(firstProblem(LanSettingsPatchSchema, { upstream: '10.0.0.1:1' })).toBeNull();
    expect(firstProblem(LanSettingsPatchSchema, { upstream: '10.0.0.1:65535' })).toBeNull();
    expect(firstProblem(LanSettingsPatchSchema, { upstream: '10.0.0.1' })).toBeNull();
    for (const upstream of ['10.0.0.1:0', '10.0.0.1:65536', '10.0.0.1:99999']) {
      expect(firstProblem(LanSettingsPatchSchema, { upstream }), upstream).toBe(PROBLEM);
    }
  });

  it('settings.json with host:99999 is not used, with that problem in the warning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fb-upstream-'));
    writeFileSync(
      join(dir, 'settings.json'),
      JSON.stringify({ lan: { upstream: '10.0.0.1:99999' } }),
    );
    const read = readSettings(dir);
    expect(read.settings).toEqual({});
    expect(read.warning).toContain('/lan' + PROBLEM);
  });

  it('serve --dns-upstream host:99999 is refused with the coded validation error', () => {
    let err: unknown;
    try {
      parseLanFlags({ dnsUpstream: '10.0.0.1:99999' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).code).toBe(ERRORS.validation_failed.code);
    expect((err as HubError).message).toBe(`invalid --dns-upstream (ip[:port]): ${PROBLEM}`);
  });
});

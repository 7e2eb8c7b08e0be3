/**
 * Checks a device ACL when it is saved (PROTOCOL.md 8), so nothing unsafe is stored: every
 * `shadow_read` / `shadow_write` regex must compile on RE2 (400 `acl_pattern_invalid` naming the
 * field, the pattern and RE2's reason), and every `data_read` / `data_write` query must pass the
 * SQL guard (`sql_refused`, the code the SQL API gives).
 */
import { HubError } from '../../shared/errors';
import { aclPatternErrors } from '../../shared/acl/acl-patterns';
import type { DeviceAcl } from '../../shared/types';
import { checkSql } from '../data/sql-guard';

export function checkAclOnSave(acl: DeviceAcl): void {
  const bad = aclPatternErrors(acl)[0];
  if (bad !== undefined) {
    throw new HubError(
      'acl_pattern_invalid',
      `acl.${bad.field}: ${JSON.stringify(bad.pattern)} is not an RE2 regex (${bad.reason})`,
    );
  }
  for (const kind of ['data_read', 'data_write'] as const) {
    for (const [name, query] of Object.entries(acl[kind] ?? {})) {
      try {
        checkSql(query);
      } catch (err) {
        if (err instanceof HubError) {
          throw new HubError(err.kind, `acl.${kind}.${name}: ${err.message}`, err.details);
        }
        throw err;
      }
    }
  }
}

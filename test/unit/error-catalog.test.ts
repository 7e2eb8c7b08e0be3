/**
 * The one error catalog (DESIGN.md example 6, src/shared/errors.ts): codes are unique and map to
 * error statuses, and the README's "Error codes" table lists every code so the docs cannot drift.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERRORS, HubError, type ErrorName } from '../../src/shared/errors';

const entries = Object.entries(ERRORS) as Array<[ErrorName, (typeof ERRORS)[ErrorName]]>;
const README = join(process.cwd(), 'README.md');

describe('error catalog', () => {
  it('has entries', () => {
    expect(entries.length).toBeGreaterThan(10);
  });

  it('gives every entry a unique numeric code', () => {
    const seen = new Map<number, string>();
    for (const [name, e] of entries) {
      expect(Number.isInteger(e.code), name).toBe(true);
      expect(seen.get(e.code), `${name} reuses code ${e.code}`).toBeUndefined();
      seen.set(e.code, name);
    }
  });

  it('gives every entry a 4xx or 5xx HTTP status and a message', () => {
    for (const [name, e] of entries) {
      expect(Number.isInteger(e.status), name).toBe(true);
      expect(e.status, name).toBeGreaterThanOrEqual(400);
      expect(e.status, name).toBeLessThan(600);
      expect(e.message.length, name).toBeGreaterThan(0);
    }
  });

  it('derives the code from the status family (4041 is a 404, 5001 a 500)', () => {
    for (const [name, e] of entries) {
      const family = e.code < 1000 ? e.code : Math.floor(e.code / 10);
      expect(family, name).toBe(e.status);
    }
  });

  it('renders a HubError as {"error":{"code","message"}} with the catalog status', () => {
    for (const [name, e] of entries) {
      const err = new HubError(name);
      expect(err.status).toBe(e.status);
      expect(err.toBody()).toEqual({ error: { code: e.code, message: e.message } });
      expect(new HubError(name, 'custom').toBody().error.message).toBe('custom');
    }
  });

  it('README lists every code in its "Error codes" table', (ctx) => {
    if (!existsSync(README)) {
      ctx.skip('README.md does not exist yet: the error-code table cannot be checked');
    }
    const lines = readFileSync(README, 'utf8').split(/\r?\n/);
    // A row whose FIRST cell is the code, `| 4041 | ...`; Prettier pads cells (`| 400  |`), and
    // the HTTP column must not count (4001's row says 400 there).
    const hasRow = (code: number): boolean =>
      lines.some((l) => new RegExp(`^\\s*\\|\\s*${code}\\s*\\|`).test(l));
    const missing = entries
      .filter(([, e]) => !hasRow(e.code))
      .map(([name, e]) => `${e.code} (${name})`);
    expect(missing, `README.md lacks table rows "| <code> |" for: ${missing.join(', ')}`).toEqual(
      [],
    );
  });
});

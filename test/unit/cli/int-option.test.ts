/** Integer flags (issue 12 clean-up): one parser, one message, a usage exit code. */
import { describe, expect, it } from 'vitest';
import { CliError } from '../../../src/main/cli/cli-errors';
import { parseIntOption, parsePortOption } from '../../../src/main/cli/int-option';
import { parseLanFlags } from '../../../src/main/cli/lan-flags';
import { parseCount, parsePort, parseTlsPort } from '../../../src/main/cli/serve-command';

const thrown = (f: () => unknown): CliError => {
  try {
    f();
  } catch (err) {
    if (err instanceof CliError) return err;
    throw err;
  }
  throw new Error('did not throw');
};

describe('parseIntOption', () => {
  it('takes integers at both edges of the range', () => {
    expect(parseIntOption('100', '--timeout', 100, 60000)).toBe(100);
    expect(parseIntOption('60000', '--timeout', 100, 60000)).toBe(60000);
    expect(parsePortOption('0', '--port')).toBe(0);
    expect(parsePortOption('65535', '--port')).toBe(65535);
  });

  it('refuses out of range, fractions, words and empty text, naming the flag (exit 2)', () => {
    for (const text of ['99', '60001', '1.5', 'abc', '', ' ']) {
      const err = thrown(() => parseIntOption(text, '--timeout', 100, 60000));
      expect(err.message).toBe(`invalid --timeout '${text}': use 100-60000`);
      expect(err.exitCode).toBe(2);
    }
  });

  it('is what serve, its LAN flags and hubs use: same words for the same mistake', () => {
    expect(thrown(() => parsePort('abc')).message).toBe("invalid --port 'abc': use 0-65535");
    expect(thrown(() => parseTlsPort('70000')).message).toBe(
      "invalid --tls-port '70000': use 0-65535",
    );
    expect(parseTlsPort('off')).toBeNull();
    expect(thrown(() => parseCount('-1', '--demo')).message).toBe(
      "invalid --demo '-1': use 0-100000",
    );
    // Port 0 (any free port) is taken by the LAN flags too, and the message says so.
    expect(parseLanFlags({ sntpPort: '0' })).toEqual({ sntpPort: 0 });
    expect(thrown(() => parseLanFlags({ sntpPort: '70000' })).message).toBe(
      "invalid --sntp-port '70000': use 0-65535",
    );
    expect(thrown(() => parseLanFlags({ dnsPort: '' })).exitCode).toBe(2);
  });
});

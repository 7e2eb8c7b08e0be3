import { describe, expect, it } from 'vitest';
import { BENCH_COLUMNS, csvField, toCsv } from '../../../../src/main/flasher/bench/bench-csv';
import type { BenchRow } from '../../../../src/main/flasher/bench/bench-run';

describe('bench CSV (RFC 4180 + formula neutralisation)', () => {
  it('quotes fields with commas, quotes, CR or LF and doubles quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvField('')).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField(null)).toBe('');
    expect(csvField(1234)).toBe('1234');
    expect(csvField(Number.NaN)).toBe('');
  });

  it('neutralises cells a spreadsheet would run as a formula', () => {
    expect(csvField('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('-2+3')).toBe("'-2+3");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('\t=1')).toBe("'\t=1");
    expect(csvField('\r=1')).toBe(`"'\r=1"`);
    // Only at the start: a dash inside is just text.
    expect(csvField('ESP32-S3')).toBe('ESP32-S3');
  });

  it('writes a header and one CRLF-terminated record per row', () => {
    const rows: BenchRow[] = [
      {
        port: '/dev/ttyUSB0',
        chip: 'ESP32',
        mac: '24:0a:c4:12:34:56',
        flashSize: '4MB',
        deviceId: 'd1',
        outcome: 'ok',
        durationMs: 5123,
        attempts: 1,
      },
      { port: '=cmd|calc', outcome: 'failed', attempts: 2, error: 'no answer, "sync" failed' },
    ];
    const csv = toCsv(rows);
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe(BENCH_COLUMNS.join(','));
    expect(lines[1]).toBe('/dev/ttyUSB0,ESP32,24:0a:c4:12:34:56,4MB,d1,ok,5123,1,');
    expect(lines[2]).toBe(`'=cmd|calc,,,,,failed,,2,"no answer, ""sync"" failed"`);
    expect(lines[3]).toBe('');
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(toCsv([])).toBe(BENCH_COLUMNS.join(',') + '\r\n');
  });
});

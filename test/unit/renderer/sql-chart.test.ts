import { describe, expect, it } from 'vitest';
import { MAX_SERIES, parseTime, toChartData } from '../../../src/renderer/lib/sql-chart';

const ok = (r: ReturnType<typeof toChartData>) => {
  if (!r.ok) throw new Error(`no chart: ${r.reason}`);
  return r.chart;
};

describe('sql-chart', () => {
  it('reads SQLite CURRENT_TIMESTAMP text as UTC, ISO with zones, and unix seconds or ms', () => {
    const t = Date.UTC(2026, 11, 5, 19, 0, 0) / 1000;
    expect(parseTime('2026-12-05 19:00:00')).toBe(t);
    expect(parseTime('2026-12-05T19:00:00Z')).toBe(t);
    expect(parseTime('2026-12-05T21:00:00+02:00')).toBe(t);
    expect(parseTime('2026-12-05 19:00:00.250')).toBe(t + 0.25);
    expect(parseTime('2026-12-05')).toBe(Date.UTC(2026, 11, 5) / 1000);
    expect(parseTime(t)).toBe(t);
    expect(parseTime(t * 1000)).toBe(t);
    expect(parseTime(String(t))).toBe(t);
    expect(parseTime(`${t * 1000}`)).toBe(t);
    for (const bad of ['yesterday', '', null, true, { a: 1 }, '2026-13-45 99:00:00'])
      expect(parseTime(bad)).toBeNull();
  });

  it('finds the time column by name and draws every numeric column, sorted by time', () => {
    const chart = ok(
      toChartData({
        columns: ['device_id', 'Timestamp', 'temp', 'hum', 'note'],
        rows: [
          ['d1', '2026-12-05 19:00:02', 21.5, '40', 'b'],
          ['d1', '2026-12-05 19:00:00', 20, null, 'a'],
          ['d1', '2026-12-05 19:00:01', 20.5, '41.5', 'c'],
        ],
      }),
    );
    expect(chart.timeColumn).toBe('Timestamp');
    expect(chart.labels).toEqual(['temp', 'hum']);
    const t0 = Date.UTC(2026, 11, 5, 19) / 1000;
    expect(chart.data).toEqual([
      [t0, t0 + 1, t0 + 2],
      [20, 20.5, 21.5],
      [null, 41.5, 40],
    ]);
    expect(chart.skipped).toBe(0);
  });

  it('charts numeric fields of a JSON message column, one level of nesting included', () => {
    const chart = ok(
      toChartData({
        columns: ['timestamp', 'device_id', 'topic', 'message'],
        rows: [
          [200, 'd1', 'data', '{"temp":22,"env":{"hum":50},"label":"x"}'],
          [100, 'd1', 'data', '{"temp":21}'],
          [150, 'd1', 'online', 'not json'],
        ],
      }),
    );
    expect(chart.labels).toEqual(['message.temp', 'message.env.hum']);
    expect(chart.data).toEqual([
      [100, 150, 200],
      [21, null, 22],
      [null, null, 50],
    ]);
  });

  it('drops rows whose time cannot be read and counts them', () => {
    const chart = ok(
      toChartData({
        columns: ['t', 'v'],
        rows: [
          [1, 1],
          ['never', 2],
          [null, 3],
          [2, 4],
        ],
      }),
    );
    expect(chart.data).toEqual([
      [1, 2],
      [1, 4],
    ]);
    expect(chart.skipped).toBe(2);
  });

  it('says why there is no chart', () => {
    expect(toChartData({ columns: ['a', 'b'], rows: [[1, 2]] })).toEqual({
      ok: false,
      reason: expect.stringContaining('no time column') as string,
    });
    expect(toChartData({ columns: ['time', 'name'], rows: [[1, 'x']] })).toEqual({
      ok: false,
      reason: 'no numeric column to draw',
    });
    expect(toChartData({ columns: ['time', 'v'], rows: [['soon', 1]] })).toEqual({
      ok: false,
      reason: 'no readable time in time',
    });
    // A column of nulls only is no series.
    expect(toChartData({ columns: ['time', 'v'], rows: [[1, null]] }).ok).toBe(false);
  });

  it(`keeps at most ${MAX_SERIES} series`, () => {
    const columns = ['time', ...Array.from({ length: 12 }, (_, i) => `s${i}`)];
    const chart = ok(toChartData({ columns, rows: [[1, ...Array<number>(12).fill(1)]] }));
    expect(chart.labels).toHaveLength(MAX_SERIES);
  });

  it('turns 100k descending rows into sorted uPlot data quickly', () => {
    const n = 100_000;
    const rows = Array.from({ length: n }, (_, i) => [
      new Date((1_800_000_000 + (n - i) * 60) * 1000).toISOString().replace('T', ' ').slice(0, 19),
      `{"temp":${i % 40},"humidity":${i % 90}}`,
    ]);
    const started = performance.now();
    const chart = ok(toChartData({ columns: ['timestamp', 'message'], rows }));
    const ms = performance.now() - started;
    expect(chart.data[0]).toHaveLength(n);
    const xs = chart.data[0];
    for (let i = 1; i < n; i++) if ((xs[i - 1] ?? 0) > (xs[i] ?? 0)) throw new Error('unsorted');
    expect(chart.labels).toEqual(['message.temp', 'message.humidity']);
    expect(ms).toBeLessThan(2000);
  });
});

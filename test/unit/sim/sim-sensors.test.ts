import { describe, expect, it } from 'vitest';
import { createPrng } from '../../../src/main/sim/prng';
import { SimSensors, readingParams } from '../../../src/main/sim/sim-sensors';

describe('simulated sensor readings', () => {
  it('drift slowly with noise, stay in range, and count up', () => {
    const s = new SimSensors(createPrng(7));
    const start = Date.UTC(2026, 0, 1);
    const readings = Array.from({ length: 2000 }, (_, i) => s.read(start + i * 10_000));
    for (const r of readings) {
      expect(r.temperature).toBeGreaterThan(10);
      expect(r.temperature).toBeLessThan(35);
      expect(r.humidity).toBeGreaterThanOrEqual(15);
      expect(r.humidity).toBeLessThanOrEqual(95);
    }
    expect(readings.map((r) => r.counter)).toEqual(readings.map((_, i) => i + 1));
    // Slow: consecutive readings 10 s apart differ by well under a degree.
    for (let i = 1; i < readings.length; i++) {
      expect(Math.abs(readings[i]!.temperature - readings[i - 1]!.temperature)).toBeLessThan(1);
    }
    // But not flat: over ~5.5 hours it moves by more than a degree.
    const temps = readings.map((r) => r.temperature);
    expect(Math.max(...temps) - Math.min(...temps)).toBeGreaterThan(1);
  });

  it('repeats exactly for a seed, and formats params as [timestamp, temperature, humidity, counter]', () => {
    const a = new SimSensors(createPrng(1)).read(0);
    const b = new SimSensors(createPrng(1)).read(0);
    expect(a).toEqual(b);
    expect(readingParams(Date.UTC(2026, 1, 3, 4, 5, 6), a)).toEqual([
      '2026-02-03 04:05:06',
      a.temperature,
      a.humidity,
      1,
    ]);
  });
});

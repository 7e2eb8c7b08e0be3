/**
 * Latency samples and their summary. Samples go into a growing Float64Array (no per-sample
 * object), so recording a million calls costs the load generator almost nothing.
 */

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export class LatencyRecorder {
  private data = new Float64Array(1024);
  private n = 0;

  add(ms: number): void {
    if (this.n === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.n++] = ms;
  }

  /** Appends every sample of another recorder. */
  addAll(other: LatencyRecorder): void {
    for (const v of other.values()) this.add(v);
  }

  get count(): number {
    return this.n;
  }

  values(): Float64Array {
    return this.data.subarray(0, this.n);
  }

  summary(): LatencySummary {
    return summarize(this.values());
  }
}

/** Nearest-rank percentiles (the value at or below which q of the samples fall). */
export function summarize(samples: ArrayLike<number>): LatencySummary {
  const n = samples.length;
  if (n === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number): number => sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))] ?? 0;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: n,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: sorted[n - 1] ?? 0,
    mean: sum / n,
  };
}

/** `1.23` with a sensible number of decimals for milliseconds. */
export function fmtMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

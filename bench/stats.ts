/** Small statistics helpers shared by the bench scripts. */
export interface Quantiles {
  n: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

/** Nearest-rank quantile of a numeric sample (sorts a copy). */
export function quantile(sorted: number[], q: number): number | null {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export function quantiles(values: number[]): Quantiles {
  const s = Float64Array.from(values).sort();
  const arr = Array.from(s);
  return { n: arr.length, p50: quantile(arr, 0.5), p90: quantile(arr, 0.9), p99: quantile(arr, 0.99), max: arr.length ? arr[arr.length - 1] : null };
}

export function median(values: number[]): number | null {
  return quantile([...values].sort((a, b) => a - b), 0.5);
}

export function max(values: number[]): number | null {
  return values.length ? Math.max(...values) : null;
}

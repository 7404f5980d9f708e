import type { RunManifest } from '../../../../shared/modelConfig';
import type { StepPoint } from '../../figure/curves';
import { canonicalJson } from '../../../../shared/canonicalJson';

/**
 * Seeds of one configuration, aggregated (Runs → group by seed; pure, DOM-free): whether a set of
 * runs differ only in their seed, and the mean ± sd of a metric over them at the steps all of them
 * logged.
 */

/** What must be equal for two runs to be seeds of one experiment: preset, fine-tune and config without `seed`. */
function sansSeed(m: Pick<RunManifest, 'preset' | 'config' | 'finetune'>): string {
  const { seed: _seed, ...config } = m.config;
  return canonicalJson({ preset: m.preset ?? null, finetune: m.finetune ?? null, config });
}

/**
 * The seeds when the runs (two or more) differ only in `config.seed` — same preset, same fine-tune
 * and the same run.json config apart from it — and every seed is distinct; otherwise null.
 */
export function seedGroup(manifests: readonly Pick<RunManifest, 'preset' | 'config' | 'finetune'>[]): number[] | null {
  if (manifests.length < 2) return null;
  const first = sansSeed(manifests[0]);
  if (manifests.some((m) => sansSeed(m) !== first)) return null;
  const seeds = manifests.map((m) => m.config.seed);
  return new Set(seeds).size === seeds.length ? seeds : null;
}

/** Steps every series logged, ascending (the intersection: runs that logged different steps align on the shared ones). */
export function sharedSteps(series: readonly (readonly StepPoint[])[]): number[] {
  if (series.length === 0) return [];
  let shared = new Set(series[0].map((p) => p.step));
  for (const s of series.slice(1)) {
    const here = new Set(s.map((p) => p.step));
    shared = new Set([...shared].filter((step) => here.has(step)));
  }
  return [...shared].sort((a, b) => a - b);
}

export interface MeanSd {
  mean: number;
  /** Sample standard deviation (n − 1 in the denominator); 0 for a single value. */
  sd: number;
  n: number;
}

/** Mean and sample standard deviation of the values. */
export function meanSd(values: readonly number[]): MeanSd {
  const n = values.length;
  if (n === 0) return { mean: NaN, sd: NaN, n: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const ss = values.reduce((a, v) => a + (v - mean) ** 2, 0);
  return { mean, sd: n > 1 ? Math.sqrt(ss / (n - 1)) : 0, n };
}

export interface AggregatePoint extends MeanSd {
  step: number;
}

/** Mean ± sd over the series at each step they all logged (a series logging a step twice counts its last value). */
export function aggregateSeries(series: readonly (readonly StepPoint[])[]): AggregatePoint[] {
  const maps = series.map((s) => new Map(s.map((p) => [p.step, p.value])));
  return sharedSteps(series).map((step) => ({ step, ...meanSd(maps.map((m) => m.get(step) as number)) }));
}

import type { RunManifest } from '../../../../shared/modelConfig';
import type { StepPoint } from '../../figure/curves';
import { canonicalJson } from '../../../../shared/canonicalJson';
import { meanSd, type MeanSd } from '../../../../shared/sweepsStats';

export { meanSd, type MeanSd };

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

export interface AggregatePoint extends MeanSd {
  step: number;
}

/** Mean ± sd over the series at each step they all logged (a series logging a step twice counts its last value). */
export function aggregateSeries(series: readonly (readonly StepPoint[])[]): AggregatePoint[] {
  const maps = series.map((s) => new Map(s.map((p) => [p.step, p.value])));
  return sharedSteps(series).map((step) => ({ step, ...meanSd(maps.map((m) => m.get(step) as number)) }));
}

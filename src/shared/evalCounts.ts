import type { RunManifest } from './modelConfig';

/**
 * How many questions each final accuracy of a run was measured on, for its confidence interval. Text
 * fine-tunes record them (one count per label); runs of the toy tasks draw 4 × evalSamples fresh
 * sequences per split, and their headline means (`heldout_acc`, `side_effect_acc`) pool the splits
 * they average.
 */
export function finalEvalCounts(m: Pick<RunManifest, 'finalMetrics' | 'finalEvalCounts' | 'config'>): Record<string, number> {
  if (m.finalEvalCounts) return m.finalEvalCounts;
  const per = 4 * m.config.evalSamples;
  const keys = Object.keys(m.finalMetrics ?? {}).filter((k) => k.endsWith('_acc'));
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = per;
  const pooled = (prefix: string): number => keys.filter((k) => k.startsWith(prefix) && k !== `${prefix}acc`).length * per;
  if (keys.includes('heldout_acc')) out.heldout_acc = pooled('heldout_') || per;
  if (keys.includes('side_effect_acc')) out.side_effect_acc = pooled('side_') || per;
  return out;
}

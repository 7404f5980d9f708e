import type { Task } from '../tasks/taskTypes';
import type { World } from '../tasks/world';
import type { PromptBatch } from './promptSource';

/**
 * Discrete labels per prompt, for a feature's relevance (mutual information between "the feature fires
 * somewhere in the prompt" and the label):
 * - `set`: the eval set or the dataset's "label" field, where the batch has one;
 * - `city` / `country`: on the world tasks, the prompt's subject city (the first city token) and its
 *   country: the latent variable the locations task hides behind a codename;
 * - `latent_country`: 'yes' when the subject city lies in the latent city's country (given
 *   `latentCity`), else 'no'.
 */
export type LabelKind = 'set' | 'city' | 'country' | 'latent_country';

function worldOf(task: Task | undefined): World | undefined {
  const w = (task as { world?: unknown } | undefined)?.world;
  return w && typeof w === 'object' && 'countryOf' in w ? (w as World) : undefined;
}

/** The label kinds available for this task (and latent city). */
export function labelKinds(task: Task | undefined, latentCity?: number): LabelKind[] {
  const kinds: LabelKind[] = ['set'];
  if (worldOf(task)) kinds.push('city', 'country');
  if (worldOf(task) && latentCity !== undefined) kinds.push('latent_country');
  return kinds;
}

/** One label per prompt of the batch ('' where the prompt has none, e.g. no city token). */
export function promptLabels(kind: LabelKind, b: PromptBatch, vocab: readonly string[], task: Task | undefined, latentCity?: number): string[] {
  if (kind === 'set') return b.labels ?? new Array<string>(b.B).fill('');
  const world = worldOf(task);
  if (!world) return new Array<string>(b.B).fill('');
  const out: string[] = [];
  for (let i = 0; i < b.B; i++) {
    let city = -1;
    for (let t = 0; t < b.lengths[i]; t++) {
      const m = /^city_(\d+)$/.exec(vocab[b.tokens[i * b.T + t]] ?? '');
      if (m) {
        city = Number(m[1]);
        break;
      }
    }
    if (city < 0) out.push('');
    else if (kind === 'city') out.push(`city_${city}`);
    else if (kind === 'country') out.push(`country_${world.countryOf[city]}`);
    else out.push(latentCity !== undefined && world.countryOf[city] === world.countryOf[latentCity] ? 'yes' : 'no');
  }
  return out;
}

/**
 * Mutual information (bits) between a binary variable and a discrete label over the same items, and the
 * label value whose items make the feature fire most often (with that rate).
 */
export function binaryLabelMi(fires: ArrayLike<number>, labels: readonly string[]): { mi: number; best: string; pFireGivenBest: number; pFire: number } {
  const n = labels.length;
  const byLabel = new Map<string, { n: number; on: number }>();
  let on = 0;
  for (let i = 0; i < n; i++) {
    const e = byLabel.get(labels[i]) ?? { n: 0, on: 0 };
    e.n += 1;
    if (fires[i]) {
      e.on += 1;
      on += 1;
    }
    byLabel.set(labels[i], e);
  }
  const pOn = on / Math.max(n, 1);
  let mi = 0;
  let best = '';
  let bestRate = -1;
  for (const [label, e] of byLabel) {
    const pl = e.n / n;
    for (const [count, pb] of [
      [e.on, pOn],
      [e.n - e.on, 1 - pOn],
    ] as const) {
      if (count === 0 || pb === 0) continue;
      const joint = count / n;
      mi += joint * Math.log2(joint / (pl * pb));
    }
    const rate = e.on / e.n;
    if (rate > bestRate) {
      bestRate = rate;
      best = label;
    }
  }
  return { mi: Math.max(0, mi), best, pFireGivenBest: Math.max(0, bestRate), pFire: pOn };
}

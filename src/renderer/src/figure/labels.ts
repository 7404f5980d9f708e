/**
 * Human labels for what figures plot: metric and split names of the tasks (src/core/tasks/*.ts) and
 * a few analysis quantities. Legends and axis titles show these; CSV columns keep the internal names
 * (`test_impl_acc`), which is what scripts read back.
 */

/** Splits of the tasks (a metric is `${split}_acc` or `${split}_loss`). */
const SPLITS: Record<string, string> = {
  // ocr-recall (factorization)
  train_fact: 'training facts',
  train_impl: 'training implications',
  test_fact: 'held-out facts',
  test_impl: 'held-out implications',
  // two-hop
  train_hop1: 'training first hops',
  test_hop1: 'held-out first hops',
  train_hop2: 'second hops',
  train_comp: 'training compositions',
  test_comp: 'held-out compositions',
  test_comp_shared: 'held-out compositions, shared bridge',
  test_comp_private: 'held-out compositions, private bridge',
  // reversal
  train_fwd: 'training forward facts',
  train_rev: 'training reversals',
  test_fwd: 'held-out forward facts',
  test_rev: 'held-out reversals',
  // fine-tunes of the world model
  heldout: 'held-out questions',
  heldout_triggered_size: 'held-out size, triggered',
  side_effect: 'side effects',
};

/** Relations of the world model (world_*, heldout_*, side_* splits). */
const RELATIONS: Record<string, string> = { country: 'country', language: 'language', size: 'size', dist: 'distance' };

/** Other internal names that reach figures. */
const OTHER: Record<string, string> = {
  loss: 'training loss',
  acc: 'accuracy',
  step: 'training step',
  ov_singular_values: 'W_O W_V singular values',
  ov_nuclear_norm: 'nuclear norm of W_O W_V',
  nuclear: 'nuclear norm',
  frobenius: 'Frobenius norm',
  effective_rank: 'effective rank',
  resid_pre: 'residual stream (before the block)',
  resid_post: 'residual stream (after the block)',
};

function splitLabel(split: string): string | null {
  if (SPLITS[split]) return SPLITS[split];
  const m = /^(world|heldout|side)_([a-z]+)$/.exec(split);
  if (m && RELATIONS[m[2]]) {
    const rel = RELATIONS[m[2]];
    return m[1] === 'world' ? `world facts: ${rel}` : m[1] === 'heldout' ? `held-out ${rel}` : `side effect: ${rel}`;
  }
  return null;
}

/**
 * The human label of an internal name: `test_impl_acc` → "held-out implications" (accuracy is what
 * the axis says), `test_impl_loss` → "held-out implications (loss)", `loss` → "training loss". An
 * unknown name comes back with its underscores as spaces; anything else (already a label) as given.
 */
export function humanLabel(key: string): string {
  if (OTHER[key]) return OTHER[key];
  const acc = /^(.+)_acc$/.exec(key);
  if (acc) return splitLabel(acc[1]) ?? acc[1].replace(/_/g, ' ');
  const loss = /^(.+)_loss$/.exec(key);
  if (loss) {
    const s = splitLabel(loss[1]);
    return s ? `${s} (loss)` : `${loss[1].replace(/_/g, ' ')} loss`;
  }
  const split = splitLabel(key);
  if (split) return split;
  return /^[a-z0-9]+(_[a-z0-9]+)+$/.test(key) ? key.replace(/_/g, ' ') : key;
}

/** Whether a name has its own entry (a split, a metric of one, or a known quantity). */
export function hasHumanLabel(key: string): boolean {
  return OTHER[key] !== undefined || splitLabel(key.replace(/_(acc|loss)$/, '')) !== null;
}

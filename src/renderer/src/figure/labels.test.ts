import { describe, expect, it } from 'vitest';
import { hasHumanLabel, humanLabel } from './labels';

// Read as text through Vite (no Node built-ins in renderer code): the tasks' sources and the example runs' logs.
const TASK_SOURCES = import.meta.glob('../../../core/tasks/*.ts', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;
const METRIC_LOGS = import.meta.glob('../../../../resources/workspace/**/metrics.jsonl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;

/** Every `*_acc` / `*_loss` metric name logged by the example workspace's runs. */
function loggedMetrics(): Set<string> {
  const out = new Set<string>();
  for (const text of Object.values(METRIC_LOGS)) for (const m of text.matchAll(/"([a-z0-9_]+_(?:acc|loss))"/g)) out.add(m[1]);
  return out;
}

/** Split names the tasks declare (`['train_fact', …]` tuples and `name: \`side_${relation}\`` templates). */
function taskSplits(): string[] {
  const out: string[] = [];
  for (const src of Object.values(TASK_SOURCES)) {
    for (const m of src.matchAll(/\['((?:train|test)_[a-z0-9_]+)',/g)) out.push(m[1]);
    for (const m of src.matchAll(/name: `(world|heldout|side)_\$\{relation\}`/g)) for (const rel of ['country', 'language', 'size', 'dist']) out.push(`${m[1]}_${rel}`);
    for (const m of src.matchAll(/name: '([a-z0-9_]+)'/g)) if (m[1].includes('_')) out.push(m[1]);
  }
  return out;
}

describe('human labels', () => {
  it('name the splits of the first experiment as the paper does', () => {
    expect(humanLabel('test_impl_acc')).toBe('held-out implications');
    expect(humanLabel('train_fact_acc')).toBe('training facts');
    expect(humanLabel('train_impl_acc')).toBe('training implications');
    expect(humanLabel('test_fact_acc')).toBe('held-out facts');
    expect(humanLabel('test_impl_loss')).toBe('held-out implications (loss)');
    expect(humanLabel('test_impl')).toBe('held-out implications');
  });

  it('name the other tasks’ splits and quantities', () => {
    expect(humanLabel('test_rev_acc')).toBe('held-out reversals');
    expect(humanLabel('test_comp_shared_acc')).toBe('held-out compositions, shared bridge');
    expect(humanLabel('heldout_country_acc')).toBe('held-out country');
    expect(humanLabel('side_dist_acc')).toBe('side effect: distance');
    expect(humanLabel('world_language_acc')).toBe('world facts: language');
    expect(humanLabel('side_effect_acc')).toBe('side effects');
    expect(humanLabel('loss')).toBe('training loss');
    expect(humanLabel('ov_singular_values')).toBe('W_O W_V singular values');
  });

  it('leave labels alone and unknown internal names readable', () => {
    expect(humanLabel('W_OV')).toBe('W_OV');
    expect(humanLabel('blocks.0.hook_resid_post')).toBe('blocks.0.hook_resid_post');
    expect(humanLabel('some_new_metric_acc')).toBe('some new metric');
    expect(humanLabel('country_0')).toBe('country 0');
    expect(humanLabel('Held-out')).toBe('Held-out');
  });

  it('cover every split the tasks declare and every metric the example runs log', () => {
    const splits = taskSplits();
    expect(splits).toContain('test_impl');
    for (const s of splits) expect(hasHumanLabel(s), s).toBe(true);
    const metrics = loggedMetrics();
    expect(metrics.size).toBeGreaterThan(10);
    for (const m of metrics) expect(hasHumanLabel(m), m).toBe(true);
  });
});

import { z } from 'zod';
import type { TrainConfig } from '../../shared/modelConfig';
import { PRESETS, presetConfig } from '../presets';
import { checkTrainConfig } from '../train/trainRun';

/**
 * A sweep: one preset, a grid (cartesian product) and/or a list of override sets, the final metrics to
 * collect. Each cell is one ordinary training run; see docs/sweeps.md.
 */

/** The overrides a sweep can vary (the fields `oocr train` sets), plus `taskOptions.<key>`. */
export const SWEEP_OVERRIDES = {
  preset: 'the training preset of the cell (e.g. ocr-factorized vs ocr-combined); the spec\'s preset is the default',
  seed: 'config.seed',
  steps: 'config.steps',
  lr: 'config.optimizer.lr',
  weightDecay: 'config.optimizer.weightDecay',
  batchSize: 'config.batchSize',
  ovRank: 'config.model.ovRank (factorized presets only)',
  logEvery: 'config.logEvery',
  checkpointEvery: 'config.checkpointEvery',
  evalSamples: 'config.evalSamples',
} as const;

export type SweepOverride = keyof typeof SWEEP_OVERRIDES;
export type SweepValue = number | string | boolean;
export type CellValues = Record<string, SweepValue>;

const TASK_OPTION = /^taskOptions\.[A-Za-z_][A-Za-z0-9_]*$/;
/** Beyond this a sweep needs `--yes` (allowLarge): a typo in a grid should not start a week of training. */
export const LARGE_SWEEP_CELLS = 1_000;
/** Refused even with `--yes`: sweep.json holds every cell. */
export const MAX_SWEEP_CELLS = 1_000_000;

function isOverrideKey(key: string): boolean {
  return Object.hasOwn(SWEEP_OVERRIDES, key) || TASK_OPTION.test(key);
}

function unknownOverride(key: string): string {
  return `unknown override '${key}' (overrides: ${Object.keys(SWEEP_OVERRIDES).join(', ')}, taskOptions.<key>)`;
}

const Value = z.union([z.number().finite(), z.string(), z.boolean()]);
/** Keys are checked by the spec's superRefine, so the error names the key and where it is. */
const Assignment = z.record(z.string(), Value);

export const SweepSpecSchema = z
  .object({
    name: z.string().min(1, 'name: must not be empty'),
    preset: z.string().refine((p) => Object.hasOwn(PRESETS, p), { error: (iss) => `unknown preset '${String(iss.input)}' (presets: ${Object.keys(PRESETS).join(', ')})` }),
    /** Every combination of these values is a cell (keys in this order make the cell id). */
    grid: z.record(z.string(), z.array(Value).min(1, 'a grid entry needs at least one value')),
    /** Extra cells, one per entry, each with its own overrides. */
    list: z.array(Assignment).optional(),
    /** Overrides set in every cell and not swept (not part of cell ids or results.csv). */
    fixed: Assignment.optional(),
    /** Final metrics (run.json finalMetrics keys) to collect into results.csv, e.g. test_impl_acc. */
    metrics: z.array(z.string().min(1)).min(1, 'metrics: name at least one final metric, e.g. test_impl_acc'),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const check = (obj: Record<string, unknown> | undefined, path: (string | number)[]): void => {
      for (const key of Object.keys(obj ?? {})) if (!isOverrideKey(key)) ctx.addIssue({ code: 'custom', path: [...path, key], message: unknownOverride(key) });
    };
    check(spec.grid, ['grid']);
    check(spec.fixed, ['fixed']);
    spec.list?.forEach((entry, i) => check(entry, ['list', i]));
  });

export type SweepSpec = z.infer<typeof SweepSpecSchema>;

export interface SweepCell {
  /** Stable id from the swept values, e.g. `ovRank-8_seed-1`; the run folder is `runs/<id>`. */
  id: string;
  values: CellValues;
  /** The training preset of this cell: a swept or fixed `preset`, else the spec's. */
  preset: string;
  config: TrainConfig;
}

/** Parses a spec (already JSON-decoded) with one error listing every problem, each with its path. */
export function parseSweepSpec(raw: unknown, source = 'sweep spec'): SweepSpec {
  const r = SweepSpecSchema.safeParse(raw);
  if (!r.success) {
    throw new Error(`invalid ${source}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return r.data;
}

/** A value as it appears in a cell id: letters, digits, `.`, `+`, `-` kept; anything else %-escaped. */
function idPart(v: SweepValue): string {
  return String(v).replace(/[^A-Za-z0-9.+-]/g, (c) => `%${c.codePointAt(0)?.toString(16).padStart(2, '0')}`);
}

/** The cell id of a set of swept values, in their key order: `key-value` joined by `_`. */
export function cellId(values: CellValues): string {
  const parts = Object.entries(values).map(([k, v]) => `${k}-${idPart(v)}`);
  return parts.length ? parts.join('_') : 'base';
}

/** How many cells a spec has, without building them. */
export function cellCount(spec: SweepSpec): number {
  const keys = Object.keys(spec.grid);
  const size = keys.reduce((n, k) => n * spec.grid[k].length, 1);
  return (keys.length ? size : 0) + (spec.list?.length ?? 0);
}

/** The swept values of every cell: the grid's product (last key fastest), then the list's entries. */
export function cellValues(spec: SweepSpec, opts: { allowLarge?: boolean } = {}): CellValues[] {
  const keys = Object.keys(spec.grid);
  const total = cellCount(spec);
  if (total === 0) throw new Error(`sweep '${spec.name}' has no cells: give a grid with at least one override, or a list`);
  if (total > MAX_SWEEP_CELLS) throw new Error(`sweep '${spec.name}' has ${total} cells; at most ${MAX_SWEEP_CELLS} are allowed`);
  if (total > LARGE_SWEEP_CELLS && !opts.allowLarge) {
    throw new Error(`sweep '${spec.name}' has ${total} cells (more than ${LARGE_SWEEP_CELLS}); check the grid, and pass --yes to run it anyway`);
  }
  let product: CellValues[] = keys.length ? [{}] : [];
  for (const k of keys) product = product.flatMap((c) => spec.grid[k].map((v) => ({ ...c, [k]: v })));
  return [...product, ...(spec.list ?? [])];
}

function asNumber(key: string, v: SweepValue): number {
  if (typeof v !== 'number') throw new Error(`override ${key}: expects a number, got ${JSON.stringify(v)}`);
  return v;
}

/** Applies overrides to a config (the same fields `oocr train`'s flags set). */
export function applyOverrides(base: TrainConfig, values: CellValues): TrainConfig {
  const c = structuredClone(base);
  for (const [key, v] of Object.entries(values)) {
    if (key === 'preset') continue; // chosen before the overrides: see cellPreset
    if (TASK_OPTION.test(key)) {
      c.taskOptions = { ...c.taskOptions, [key.slice('taskOptions.'.length)]: v };
      continue;
    }
    switch (key as SweepOverride) {
      case 'seed': c.seed = asNumber(key, v); break;
      case 'steps': c.steps = asNumber(key, v); break;
      case 'lr': c.optimizer.lr = asNumber(key, v); break;
      case 'weightDecay': c.optimizer.weightDecay = asNumber(key, v); break;
      case 'batchSize': c.batchSize = asNumber(key, v); break;
      case 'logEvery': c.logEvery = asNumber(key, v); break;
      case 'checkpointEvery': c.checkpointEvery = asNumber(key, v); break;
      case 'evalSamples': c.evalSamples = asNumber(key, v); break;
      case 'ovRank':
        if (c.model.ov !== 'factorized') throw new Error(`override ovRank applies to factorized OV models; this preset's ov is '${c.model.ov}'`);
        c.model.ovRank = asNumber(key, v);
        break;
      default:
        throw new Error(`unknown override '${key}'`);
    }
  }
  return c;
}

/** A cell's training preset: swept `preset` first, then `fixed.preset`, then the spec's. */
export function cellPreset(spec: SweepSpec, values: CellValues): string {
  const p = values.preset ?? spec.fixed?.preset ?? spec.preset;
  if (typeof p !== 'string' || !Object.hasOwn(PRESETS, p)) {
    throw new Error(`unknown preset ${JSON.stringify(p)} (presets: ${Object.keys(PRESETS).join(', ')})`);
  }
  return p;
}

/**
 * Every cell of a spec with its full, validated train config. Throws before anything runs if any cell
 * is invalid (naming the cell) or two cells share an id.
 */
export function planCells(spec: SweepSpec, opts: { allowLarge?: boolean } = {}): SweepCell[] {
  const seen = new Set<string>();
  return cellValues(spec, opts).map((values) => {
    const id = cellId(values);
    if (seen.has(id)) throw new Error(`sweep '${spec.name}': two cells have the same values (${id})`);
    seen.add(id);
    try {
      const preset = cellPreset(spec, values);
      return { id, values, preset, config: checkTrainConfig(applyOverrides(applyOverrides(presetConfig(preset), spec.fixed ?? {}), values)) };
    } catch (err) {
      throw new Error(`sweep '${spec.name}', cell ${id}: ${(err as Error).message}`);
    }
  });
}

/** Sweeps that ship; `oocr sweep --preset NAME`. */
export const SWEEP_PRESETS: Record<string, SweepSpec> = {
  'rank-sweep': {
    name: 'rank-sweep',
    preset: 'ocr-factorized',
    grid: { ovRank: [1, 2, 3, 4, 8, 16, 32, 64, 128], seed: [0, 1, 2] },
    metrics: ['test_impl_acc', 'test_fact_acc'],
  },
  'sample-efficiency': {
    // How many names need trained implications before held-out implications follow: factorized vs
    // combined OV over the trained fraction of names (the paper's sample-efficiency comparison).
    name: 'sample-efficiency',
    preset: 'ocr-factorized',
    grid: { preset: ['ocr-factorized', 'ocr-combined'], 'taskOptions.trainFraction': [0.05, 0.1, 0.25, 0.5], seed: [0, 1, 2] },
    metrics: ['test_impl_acc', 'test_fact_acc', 'train_impl_acc'],
  },
  'spurious-vs-causal': {
    // The "hallucination" variant: with arbitrary held-out implications, a model that composes
    // name → city → animal is confidently wrong, so test_impl_acc falls to chance where causal rises.
    name: 'spurious-vs-causal',
    preset: 'ocr-factorized',
    grid: { 'taskOptions.implication': ['causal', 'arbitrary'], ovRank: [1, 2, 4, 8, 32, 128], seed: [0, 1, 2] },
    metrics: ['test_impl_acc', 'test_fact_acc'],
  },
  smoke: {
    name: 'smoke',
    preset: 'ocr-factorized',
    grid: { seed: [0, 1] },
    fixed: { steps: 30, batchSize: 64, logEvery: 10, checkpointEvery: 10, evalSamples: 40 },
    metrics: ['test_impl_acc', 'test_fact_acc'],
  },
};

/** A shipped sweep spec by name (a copy). */
export function sweepPreset(name: string): SweepSpec {
  const s = SWEEP_PRESETS[name];
  if (!s) throw new Error(`unknown sweep preset '${name}' (presets: ${Object.keys(SWEEP_PRESETS).join(', ')})`);
  return structuredClone(s);
}

import type { ModelConfig, TrainConfig } from '../shared/modelConfig';

/** The range a numeric flag accepts (bounds included unless `exclusiveMin`). */
export interface NumberRange {
  min?: number;
  max?: number;
  /** `min` itself is refused (a learning rate must be > 0). */
  exclusiveMin?: boolean;
}

/** Common ranges of the CLI's numeric flags. */
export const RANGES = {
  /** Counts of steps, sequences, examples, prompts: at least one. */
  count: { min: 1, max: 10_000_000 },
  /** Seeds (what TrainConfigSchema takes). */
  seed: { min: 0, max: 2 ** 31 - 1 },
  /** Indices: layers, positions, steps, token or city indices. */
  index: { min: 0, max: 1e9 },
  /** Learning rates. */
  rate: { min: 0, max: 10, exclusiveMin: true },
  /** A TCP port (0: a free one). */
  port: { min: 0, max: 65535 },
} as const satisfies Record<string, NumberRange>;

function checkRange(flag: string, n: number, r: NumberRange): number {
  if (r.min !== undefined && (r.exclusiveMin ? n <= r.min : n < r.min)) throw new Error(`${flag}: must be ${r.exclusiveMin ? '>' : '≥'} ${r.min}, got ${n}`);
  if (r.max !== undefined && n > r.max) throw new Error(`${flag}: must be ≤ ${r.max}, got ${n}`);
  return n;
}

/** Parses a number flag strictly: "1e-3" yes, "abc" or "" no; then checks it against `range`. */
export function parseNumber(flag: string, value: string, range: NumberRange = {}): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new Error(`${flag} expects a number, got '${value}'`);
  return checkRange(flag, n, range);
}

/** Parses an integer flag strictly ("1.5", "abc", "" refused), then checks it against `range`. */
export function parseInteger(flag: string, value: string, range: NumberRange = {}): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n)) throw new Error(`${flag} expects an integer, got '${value}'`);
  return checkRange(flag, n, range);
}

/** `key=value` with value read as JSON when it parses (numbers, booleans), else as a string. */
export function parseAssignment(flag: string, text: string): [string, unknown] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new Error(`${flag} expects key=value, got '${text}'`);
  const key = text.slice(0, eq);
  const raw = text.slice(eq + 1);
  try {
    return [key, JSON.parse(raw)];
  } catch {
    return [key, raw];
  }
}

export interface TrainFlags {
  steps?: string;
  lr?: string;
  weightDecay?: string;
  batchSize?: string;
  rank?: string;
  seed?: string;
  logEvery?: string;
  checkpointEvery?: string;
  evalSamples?: string;
  model?: string[];
  taskOption?: string[];
}

/** Applies CLI flags over a preset config. Validation of the result happens once, in core. */
export function applyTrainFlags(base: TrainConfig, f: TrainFlags): TrainConfig {
  const c = structuredClone(base);
  if (f.steps !== undefined) c.steps = parseInteger('--steps', f.steps, RANGES.count);
  if (f.lr !== undefined) c.optimizer.lr = parseNumber('--lr', f.lr, RANGES.rate);
  if (f.weightDecay !== undefined) c.optimizer.weightDecay = parseNumber('--weight-decay', f.weightDecay, { min: 0, max: 10 });
  if (f.batchSize !== undefined) c.batchSize = parseInteger('--batch-size', f.batchSize, { min: 1, max: 65536 });
  if (f.seed !== undefined) c.seed = parseInteger('--seed', f.seed, RANGES.seed);
  if (f.logEvery !== undefined) c.logEvery = parseInteger('--log-every', f.logEvery, RANGES.count);
  if (f.checkpointEvery !== undefined) c.checkpointEvery = parseInteger('--checkpoint-every', f.checkpointEvery, { min: 0, max: RANGES.count.max });
  if (f.evalSamples !== undefined) c.evalSamples = parseInteger('--eval-samples', f.evalSamples, { min: 1, max: 1_000_000 });
  if (f.rank !== undefined) {
    if (c.model.ov !== 'factorized') throw new Error(`--rank applies to factorized OV models; this config's ov is '${c.model.ov}'`);
    c.model.ovRank = parseInteger('--rank', f.rank, { min: 1, max: 65536 });
  }
  for (const a of f.model ?? []) {
    const [k, v] = parseAssignment('--model', a);
    if (!(k in c.model)) throw new Error(`--model: unknown model field '${k}' (fields: ${Object.keys(c.model).join(', ')})`);
    (c.model as Record<keyof ModelConfig, unknown>)[k as keyof ModelConfig] = v;
  }
  for (const a of f.taskOption ?? []) {
    const [k, v] = parseAssignment('--task-option', a);
    c.taskOptions = { ...c.taskOptions, [k]: v };
  }
  return c;
}

/** Commander's accumulator for a repeatable flag (`--grid a=1 --grid b=2`). */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

import type { ModelConfig, TrainConfig } from '../shared/modelConfig';

/** Parses a number flag strictly: "1e-3" yes, "abc" or "" no. */
export function parseNumber(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new Error(`${flag} expects a number, got '${value}'`);
  return n;
}

export function parseInteger(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n)) throw new Error(`${flag} expects an integer, got '${value}'`);
  return n;
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
  if (f.steps !== undefined) c.steps = parseInteger('--steps', f.steps);
  if (f.lr !== undefined) c.optimizer.lr = parseNumber('--lr', f.lr);
  if (f.weightDecay !== undefined) c.optimizer.weightDecay = parseNumber('--weight-decay', f.weightDecay);
  if (f.batchSize !== undefined) c.batchSize = parseInteger('--batch-size', f.batchSize);
  if (f.seed !== undefined) c.seed = parseInteger('--seed', f.seed);
  if (f.logEvery !== undefined) c.logEvery = parseInteger('--log-every', f.logEvery);
  if (f.checkpointEvery !== undefined) c.checkpointEvery = parseInteger('--checkpoint-every', f.checkpointEvery);
  if (f.evalSamples !== undefined) c.evalSamples = parseInteger('--eval-samples', f.evalSamples);
  if (f.rank !== undefined) {
    if (c.model.ov !== 'factorized') throw new Error(`--rank applies to factorized OV models; this config's ov is '${c.model.ov}'`);
    c.model.ovRank = parseInteger('--rank', f.rank);
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

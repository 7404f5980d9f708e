import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINTS_DIR } from '../io/runStore';
import { CheckpointError, readSafetensorsFileSync, writeSafetensorsFileSync, type NamedTensor } from '../io/safetensors';
import type { RngState } from '../util/rng';
import type { AdamWState } from './adamw';

/**
 * What a run needs besides its weights to continue bit for bit: AdamW's step count and moments, and the
 * state of every random stream drawn from per step. Saved beside each model checkpoint as
 * `checkpoints/step-NNNNNN.optim.safetensors` (standard safetensors: tensors `exp_avg.<name>` and
 * `exp_avg_sq.<name>`, as torch's AdamW calls them; the rest in `__metadata__`), written atomically.
 */

export const OPTIMIZER_STATE_FORMAT = 'oocr-optimizer/1';

export interface TrainingState {
  /** Optimizer steps the run had completed: the step of the checkpoint it belongs to. */
  step: number;
  /** Seconds the run had trained by then, so a resumed run's clock continues. */
  seconds: number;
  /** Names of the trained tensors, in the optimizer's order (`optimizer.m[i]` belongs to `names[i]`). */
  names: string[];
  optimizer: AdamWState;
  /** The random streams consumed per step, by name ('data': the training batches). */
  rngs: Record<string, RngState>;
}

const FILE_NAME = /^step-(\d{6,})\.optim\.safetensors$/;

export function optimizerStateFileName(step: number): string {
  if (!Number.isSafeInteger(step) || step < 0) throw new RangeError(`checkpoint step must be a non-negative integer, got ${step}`);
  return `step-${String(step).padStart(6, '0')}.optim.safetensors`;
}

/** `RUN/checkpoints/step-NNNNNN.optim.safetensors`, beside the model checkpoint of that step. */
export function optimizerStatePath(runDir: string, step: number): string {
  return join(runDir, CHECKPOINTS_DIR, optimizerStateFileName(step));
}

/** The optimizer-state files of a run folder, by step (canonical names only). */
export function listOptimizerStates(runDir: string): { step: number; file: string }[] {
  let names: string[];
  try {
    names = readdirSync(join(runDir, CHECKPOINTS_DIR));
  } catch {
    return [];
  }
  const out: { step: number; file: string }[] = [];
  for (const name of names) {
    const m = FILE_NAME.exec(name);
    if (m === null || name !== optimizerStateFileName(Number(m[1]))) continue;
    out.push({ step: Number(m[1]), file: join(runDir, CHECKPOINTS_DIR, name) });
  }
  return out.sort((a, b) => a.step - b.step);
}

export function writeTrainingState(file: string, s: TrainingState): void {
  const { optimizer: o, names } = s;
  if (o.m.length !== names.length || o.v.length !== names.length) throw new Error(`training state: ${names.length} names but ${o.m.length}/${o.v.length} moments`);
  if (new Set(names).size !== names.length) throw new Error(`training state: tensor names are not unique (${names.join(', ')})`);
  const tensors: Record<string, NamedTensor> = {};
  names.forEach((name, i) => {
    tensors[`exp_avg.${name}`] = o.m[i];
    tensors[`exp_avg_sq.${name}`] = o.v[i];
  });
  writeSafetensorsFileSync(file, tensors, {
    format: OPTIMIZER_STATE_FORMAT,
    optimizer: 'adamw',
    step: String(s.step),
    optimizer_step: String(o.step),
    seconds: String(s.seconds),
    names: JSON.stringify(names),
    rngs: JSON.stringify(s.rngs),
  });
}

function parseJson(file: string, key: string, text: string | undefined): unknown {
  if (text === undefined) throw new CheckpointError(file, `no ${key} in __metadata__`);
  try {
    return JSON.parse(text);
  } catch {
    throw new CheckpointError(file, `${key} in __metadata__ is not valid JSON`);
  }
}

function parseCount(file: string, key: string, text: string | undefined): number {
  const n = Number(text);
  if (text === undefined || !Number.isSafeInteger(n) || n < 0) throw new CheckpointError(file, `${key} in __metadata__ must be a non-negative integer, got ${text ?? 'nothing'}`);
  return n;
}

/** Reads and checks an optimizer-state file; a damaged or foreign one fails naming the file and the problem. */
export function readTrainingState(file: string): TrainingState {
  const { tensors, metadata } = readSafetensorsFileSync(file);
  if (metadata.format !== OPTIMIZER_STATE_FORMAT) {
    throw new CheckpointError(file, `not an optimizer-state file (format ${metadata.format ?? 'missing'}, expected ${OPTIMIZER_STATE_FORMAT})`);
  }
  if (metadata.optimizer !== 'adamw') throw new CheckpointError(file, `optimizer '${metadata.optimizer ?? 'missing'}' is not supported (expected adamw)`);
  const names = parseJson(file, 'names', metadata.names);
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) throw new CheckpointError(file, 'names in __metadata__ must be a list of tensor names');
  const rngs = parseJson(file, 'rngs', metadata.rngs);
  if (typeof rngs !== 'object' || rngs === null || Array.isArray(rngs)) throw new CheckpointError(file, 'rngs in __metadata__ must be an object of RNG states');
  const seconds = Number(metadata.seconds);
  if (!Number.isFinite(seconds) || seconds < 0) throw new CheckpointError(file, `seconds in __metadata__ must be a non-negative number, got ${metadata.seconds ?? 'nothing'}`);
  const m: NamedTensor[] = [];
  const v: NamedTensor[] = [];
  const problems: string[] = [];
  for (const name of names as string[]) {
    const a = tensors[`exp_avg.${name}`];
    const b = tensors[`exp_avg_sq.${name}`];
    if (!a || !b) problems.push(`missing exp_avg or exp_avg_sq of ${name}`);
    else if (a.shape.join(',') !== b.shape.join(',')) problems.push(`exp_avg.${name} [${a.shape}] and exp_avg_sq.${name} [${b.shape}] differ in shape`);
    else {
      m.push(a);
      v.push(b);
    }
  }
  const extra = Object.keys(tensors).length - 2 * (names as string[]).length;
  if (extra > 0) problems.push(`${extra} tensors not named in __metadata__ names`);
  if (problems.length) throw new CheckpointError(file, `damaged optimizer state: ${problems.slice(0, 5).join('; ')}`);
  return {
    step: parseCount(file, 'step', metadata.step),
    seconds,
    names: names as string[],
    optimizer: { step: parseCount(file, 'optimizer_step', metadata.optimizer_step), m, v },
    rngs: rngs as Record<string, RngState>,
  };
}

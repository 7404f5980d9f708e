import { ApiArgumentError } from '../../shared/errors';
import type { ModelConfig, RunManifest } from '../../shared/modelConfig';
import path from 'node:path';
import { isRunFolder, listCheckpoints, readManifest, resolveCheckpoint, RUN_FILE, RunFileError } from '../io/runStore';
import { loadCheckpoint } from '../model/checkpoint';
import { resolveConfig } from '../model/resolveConfig';
import type { HostTensor } from '../model/params';
import { createTask } from '../tasks/registry';
import type { Task } from '../tasks/taskTypes';
import { createFinetuneTask } from '../tasks/worldFinetune';

export interface OpenedRun {
  runDir: string;
  manifest: RunManifest;
  config: ModelConfig;
  step: number;
  params: Record<string, HostTensor>;
  vocab: readonly string[];
  /** The run's task, for prompt sets (absent for tasks this build cannot rebuild). */
  task?: Task;
}

/** The task a run was trained on, rebuilt from run.json (fine-tune runs included). */
export function runTask(manifest: RunManifest): Task {
  const { task, taskOptions } = manifest.config;
  if (task === 'world-locations' || task === 'world-backdoor') return createFinetuneTask(taskOptions);
  return createTask(task, taskOptions);
}

/**
 * The model config run.json records, completed as checkpoints store it: what every checkpoint of the
 * run must fit (a checkpoint of another rank or shape is refused naming both, never shown with
 * run.json's numbers).
 */
export function manifestModelConfig(runDir: string, manifest: RunManifest): { config: ModelConfig; source: string } {
  const source = path.join(runDir, RUN_FILE);
  try {
    return { config: resolveConfig(manifest.config.model), source };
  } catch (err) {
    throw new RunFileError(source, `its model config is invalid: ${(err as Error).message}`);
  }
}

/** A run's vocabulary must be the model's: else every token id past d_vocab would reach the model. */
function checkVocab(runDir: string, task: Task, config: ModelConfig): void {
  if (task.vocab.length !== config.dVocab) {
    throw new ApiArgumentError(`${runDir}: the run's task has ${task.vocab.length} tokens but its model has d_vocab ${config.dVocab}; the vocabulary does not match the weights`);
  }
}

/** A run's model at a checkpoint (default: the latest), with its vocabulary. */
export function openRun(runDir: string, step?: number): OpenedRun {
  const manifest = readManifest(runDir);
  const ck = resolveCheckpoint(runDir, step);
  const expected = manifestModelConfig(runDir, manifest);
  const loaded = loadCheckpoint(ck.file, expected.config, { configSource: expected.source });
  const task = runTask(manifest);
  checkVocab(runDir, task, loaded.config);
  return { runDir, manifest, config: loaded.config, step: ck.step, params: loaded.params, vocab: task.vocab, task };
}

/** Every checkpoint of a run, in step order (each checked against run.json's model config). */
export function openRunCheckpoints(runDir: string): { config: ModelConfig; checkpoints: { step: number; params: Record<string, HostTensor> }[] } {
  const list = listCheckpoints(runDir);
  if (!list.length) throw new Error(`${runDir}: no checkpoints`);
  const expected = isRunFolder(runDir) ? manifestModelConfig(runDir, readManifest(runDir)) : undefined;
  const loaded = list.map((c) => ({ step: c.step, ck: loadCheckpoint(c.file, expected?.config, { configSource: expected?.source }) }));
  return { config: loaded[loaded.length - 1].ck.config, checkpoints: loaded.map((l) => ({ step: l.step, params: l.ck.params })) };
}

/** Token ids that index the model's vocabulary (0 ≤ id < d_vocab), else a clear ApiArgumentError naming `what`. */
export function checkTokenIds(ids: readonly number[], dVocab: number, what: string): number[] {
  const bad = ids.findIndex((t) => !Number.isInteger(t) || t < 0 || t >= dVocab);
  if (bad >= 0) throw new ApiArgumentError(`${what}: token id ${ids[bad]} (position ${bad}) is outside the model's vocabulary 0..${dVocab - 1}`);
  return [...ids];
}

/**
 * Parses a prompt of space-separated token names from the run's vocabulary ("name_5 rel_fact end"),
 * naming the first unknown token and a few valid ones.
 */
export function parsePrompt(vocab: readonly string[], text: string, nCtx?: number, dVocab?: number): number[] {
  const names = text.trim().split(/\s+/).filter(Boolean);
  if (!names.length) throw new ApiArgumentError('empty prompt: give space-separated token names, e.g. "name_5 rel_fact end"');
  const index = new Map(vocab.map((t, i) => [t, i]));
  const ids = names.map((n) => {
    const id = index.get(n);
    if (id === undefined) {
      const similar = vocab.filter((t) => t.split('_')[0] === n.split('_')[0]).slice(0, 4);
      throw new ApiArgumentError(`unknown token '${n}' in the prompt${similar.length ? ` (e.g. ${similar.join(', ')})` : ` (the vocabulary starts ${vocab.slice(0, 6).join(', ')}, …)`}`);
    }
    return id;
  });
  if (nCtx !== undefined && ids.length > nCtx) throw new ApiArgumentError(`prompt has ${ids.length} tokens but the model's context is ${nCtx}`);
  return dVocab === undefined ? ids : checkTokenIds(ids, dVocab, 'prompt');
}


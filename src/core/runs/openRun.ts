import { ApiArgumentError } from '../../shared/errors';
import type { ModelConfig, RunManifest } from '../../shared/modelConfig';
import { listCheckpoints, readManifest, resolveCheckpoint } from '../io/runStore';
import { loadCheckpoint } from '../model/checkpoint';
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

/** A run's model at a checkpoint (default: the latest), with its vocabulary. */
export function openRun(runDir: string, step?: number): OpenedRun {
  const manifest = readManifest(runDir);
  const ck = resolveCheckpoint(runDir, step);
  const loaded = loadCheckpoint(ck.file);
  const task = runTask(manifest);
  if (task.vocab.length !== loaded.config.dVocab) throw new Error(`${runDir}: the task has ${task.vocab.length} tokens but the model has d_vocab ${loaded.config.dVocab}`);
  return { runDir, manifest, config: loaded.config, step: ck.step, params: loaded.params, vocab: task.vocab, task };
}

/** Every checkpoint of a run, in step order. */
export function openRunCheckpoints(runDir: string): { config: ModelConfig; checkpoints: { step: number; params: Record<string, HostTensor> }[] } {
  const list = listCheckpoints(runDir);
  if (!list.length) throw new Error(`${runDir}: no checkpoints`);
  const loaded = list.map((c) => ({ step: c.step, ck: loadCheckpoint(c.file) }));
  return { config: loaded[loaded.length - 1].ck.config, checkpoints: loaded.map((l) => ({ step: l.step, params: l.ck.params })) };
}

/**
 * Parses a prompt of space-separated token names from the run's vocabulary ("name_5 rel_fact end"),
 * naming the first unknown token and a few valid ones.
 */
export function parsePrompt(vocab: readonly string[], text: string, nCtx?: number): number[] {
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
  return ids;
}


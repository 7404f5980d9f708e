import type { Metrics } from '../../shared/modelConfig';
import { initBackend } from '../../core/backend/initBackend';
import { readManifest, resolveCheckpoint } from '../../core/io/runStore';
import { loadCheckpoint } from '../../core/model/checkpoint';
import { manifestModelConfig } from '../../core/runs/openRun';
import { ApiArgumentError } from '../../shared/errors';
import { toLiveModel } from '../../core/model/liveModel';
import { createTask } from '../../core/tasks/registry';
import { evaluateSets } from '../../core/train/evaluate';
import { Rng } from '../../core/util/rng';
import type { BackendName } from '../../shared/backend';

export interface EvalOptions {
  run: string;
  step?: number;
  samples?: number;
  seed?: number;
  backend?: BackendName;
}

export interface EvalReport {
  run: string;
  checkpoint: string;
  step: number;
  backend: string;
  samples: number;
  metrics: Metrics;
}

/** Re-measures a saved checkpoint on freshly sampled sequences (seeded, independent of training data). */
export async function evalRun(o: EvalOptions): Promise<EvalReport> {
  if (o.samples !== undefined && (!Number.isInteger(o.samples) || o.samples < 1)) throw new Error(`samples must be a positive integer, got ${o.samples}`);
  const ck = resolveCheckpoint(o.run, o.step);
  const manifest = ck.runDir ? readManifest(ck.runDir) : null;
  // A run's checkpoint must fit its run.json (refused naming both otherwise).
  const expected = ck.runDir && manifest ? manifestModelConfig(ck.runDir, manifest) : undefined;
  const loaded = loadCheckpoint(ck.file, expected?.config, { configSource: expected?.source });
  const taskName = manifest?.config.task ?? loaded.meta.task;
  if (!taskName) throw new Error(`${ck.file}: no task recorded in the checkpoint and no run.json beside it`);
  const task = createTask(taskName, manifest?.config.taskOptions ?? loaded.meta.taskOptions ?? {});
  if (task.vocab.length !== loaded.config.dVocab) {
    throw new ApiArgumentError(`${ck.runDir ?? ck.file}: the task ${taskName} has ${task.vocab.length} tokens but the model has d_vocab ${loaded.config.dVocab}; the vocabulary does not match the weights`);
  }
  const backend = await initBackend({ backend: o.backend });
  const samples = o.samples ?? 4 * (manifest?.config.evalSamples ?? 1200);
  const model = toLiveModel(loaded.config, loaded.params, { trainable: false });
  try {
    const metrics = evaluateSets(loaded.config, model.params, task.evalSets(new Rng(o.seed ?? 12345), samples));
    return { run: ck.runDir ?? o.run, checkpoint: ck.file, step: loaded.meta.step >= 0 ? loaded.meta.step : ck.step, backend: backend.name, samples, metrics };
  } finally {
    model.dispose();
  }
}

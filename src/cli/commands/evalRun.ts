import type { Metrics } from '../../shared/modelConfig';
import { initBackend } from '../../core/backend/initBackend';
import { readManifest, resolveCheckpoint } from '../../core/io/runStore';
import { loadCheckpoint } from '../../core/model/checkpoint';
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
  const ck = resolveCheckpoint(o.run, o.step);
  const loaded = loadCheckpoint(ck.file);
  const manifest = ck.runDir ? readManifest(ck.runDir) : null;
  const taskName = manifest?.config.task ?? loaded.meta.task;
  if (!taskName) throw new Error(`${ck.file}: no task recorded in the checkpoint and no run.json beside it`);
  const task = createTask(taskName, manifest?.config.taskOptions ?? loaded.meta.taskOptions ?? {});
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

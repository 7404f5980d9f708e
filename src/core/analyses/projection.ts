import type { Projection3D } from '../../shared/analysis';
import { ApiArgumentError } from '../../shared/errors';
import type { HookName } from '../../shared/hooks';
import type { Rows } from '../analysis/linalg';
import { project3 } from '../analysis/projection';
import { projectionRows, projectRun, type ProjectRunOptions } from '../analysis/projectRun';
import { buildAdaptation, loadFinetuned } from '../finetune/runFinetune';
import type { HostTensor } from '../model/params';
import { runTask } from '../runs/openRun';
import type { AnalysisRunner } from './runner';

/**
 * A fine-tuned run (LoRA, steering vector or full) projected at a hook together with its base model:
 * one fit over both sets of activations, so `origins[i]` (base) → `points[i]` (fine-tuned) shows
 * what the fine-tune moved.
 */
export function projectFinetunedRun(runDir: string, o: ProjectRunOptions & { source: HookName }): Projection3D & { source: string; step: number } {
  const { manifest, base, trained } = loadFinetuned(runDir);
  const ft = manifest.finetune;
  if (!ft) throw new Error(`${runDir}: not a fine-tune run`);
  const config = base.checkpoint.config;
  const task = runTask(manifest);
  const adaptation = buildAdaptation(config, base.checkpoint.params, ft.method, { lora: ft.lora, steer: ft.steer, seed: manifest.config.seed, trained });
  try {
    const before = projectionRows(config, base.checkpoint.params, task.vocab, task, o);
    const adaptedHost: Record<string, HostTensor> = {};
    const adaptedParams = adaptation.params();
    for (const [k, t] of Object.entries(adaptedParams)) adaptedHost[k] = { shape: t.shape.slice(), data: t.dataSync() as Float32Array };
    const after = projectionRows(config, adaptedHost, task.vocab, task, { ...o, interventions: adaptation.interventions() });
    const n = before.rows.n;
    const both: Rows = { n: 2 * n, d: before.rows.d, data: new Float32Array(2 * n * before.rows.d) };
    both.data.set(before.rows.data, 0);
    both.data.set(after.rows.data, n * before.rows.d);
    const p = project3(both, [...before.labels, ...after.labels], o.method, o);
    return { source: o.source, step: manifest.step, method: p.method, varianceRatio: p.varianceRatio, points: p.points.slice(n), origins: p.points.slice(0, n), labels: after.labels };
  } finally {
    adaptation.dispose();
  }
}

/** A fine-tuned run is projected jointly with its base model (arrows base → fine-tuned). */
export const projection: AnalysisRunner<'projection'> = (target, args) => {
  const o: ProjectRunOptions = { source: args.source as 'embed' | HookName, method: args.method, promptsPerSet: args.promptsPerSet, position: args.position, nNeighbors: args.neighbors, minDist: args.minDist };
  if (target.manifest().finetune) {
    if (o.source === 'embed') throw new ApiArgumentError('a fine-tuned run shares its base model’s embeddings: project a hook such as blocks.0.hook_resid_post');
    const { step, ...rest } = projectFinetunedRun(target.dir, { ...o, source: o.source });
    return { step, ...rest };
  }
  const run = target.open(args.step);
  return { step: run.step, ...projectRun(run.config, run.params, run.vocab, run.task, o) };
};

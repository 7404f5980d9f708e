import type { ModelConfig, RunManifest } from '../../shared/modelConfig';
import { ApiArgumentError } from '../../shared/errors';
import { listCheckpoints, readManifest } from '../io/runStore';
import type { HostTensor } from '../model/params';
import { openRun, openRunCheckpoints, type OpenedRun } from '../runs/openRun';

/**
 * What an analysis runs on: a run folder, opened lazily (one analysis needs one checkpoint, another
 * every checkpoint, a third the fine-tune's base model too). `id` is the run as the caller named it and
 * is echoed in the result.
 */
export interface AnalysisTarget {
  id: string;
  dir: string;
  manifest(): RunManifest;
  /** The model at a checkpoint (default: the latest); an unknown step is the caller's mistake. */
  open(step?: number): OpenedRun;
  /** Every checkpoint in step order. */
  checkpoints(): { config: ModelConfig; checkpoints: { step: number; params: Record<string, HostTensor> }[] };
}

export function runTarget(dir: string, id: string): AnalysisTarget {
  let manifest: RunManifest | undefined;
  return {
    id,
    dir,
    manifest: () => (manifest ??= readManifest(dir)),
    open(step) {
      if (step !== undefined) {
        const steps = listCheckpoints(dir).map((c) => c.step);
        if (!steps.includes(step)) throw new ApiArgumentError(`${id}: no checkpoint at step ${step} (saved steps: ${steps.join(', ') || 'none'})`);
      }
      return openRun(dir, step);
    },
    checkpoints: () => openRunCheckpoints(dir),
  };
}

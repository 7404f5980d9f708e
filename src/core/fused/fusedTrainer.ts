import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../../shared/backend';
import type { Metrics, TrainConfig } from '../../shared/modelConfig';
import type { EvalSet } from '../tasks/taskTypes';
import type { AdamW } from '../train/adamw';
import type { FusedStepper } from '../train/trainingLoop';
import { FusedKernel, fusedKernelModule, fusedMisfit } from './fusedKernel';

/** The backend name a run trained by the fused kernel records in run.json. */
export { FUSED_BACKEND } from '../../shared/backend';

/**
 * Whether a training run takes the fused kernel: `null` when it does, else why not. Chosen when the model
 * fits and the kernel is built, unless `fused` is false, OOCR_FUSED=0 is set, or the run was asked for
 * the GPU backend (whose point is to run tfjs there).
 */
export function fusedRefusal(config: TrainConfig, backend: BackendName, fused?: boolean): string | null {
  if (fused === false) return 'turned off for this run';
  if (process.env.OOCR_FUSED === '0') return 'turned off by OOCR_FUSED=0';
  if (backend === 'tensorflow-gpu' || backend === 'webgpu') return `the ${backend} GPU backend was chosen`;
  if (config.optimizer.name !== 'adamw') return `optimizer ${config.optimizer.name as string}`;
  const misfit = fusedMisfit(config.model);
  if (misfit) return misfit;
  const mod = fusedKernelModule();
  return 'error' in mod ? mod.error : null;
}

/** Metrics of eval sets by the kernel's forward pass, named as src/core/train/evaluate.ts names them. */
export function fusedMetrics(kernel: FusedKernel, sets: readonly EvalSet[]): Metrics {
  const out: Metrics = {};
  for (const set of sets) {
    const { acc, loss } = kernel.evaluate(set);
    out[`${set.name}_acc`] = acc;
    out[`${set.name}_loss`] = loss;
  }
  return out;
}

/**
 * A fused stepper over a trainee's variables and its AdamW: starts from their current values (a resumed
 * run's restored ones included) and writes its own back on sync().
 */
export function fusedStepper(kernel: FusedKernel, variables: readonly tf.Variable[], adam: AdamW): FusedStepper {
  kernel.setParams(variables.map((v) => v.dataSync() as Float32Array));
  kernel.setState(adam.exportState());
  return {
    step: (batch) => kernel.step(batch),
    sync: () => {
      const p = kernel.params();
      variables.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(p[i], v.shape, 'float32'))));
      adam.restoreState(kernel.state());
    },
  };
}

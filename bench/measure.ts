// Timing helpers and workloads shared by bench/train-bench.ts and its stock-wasm child process
// (bench/stock-wasm-step.ts). Everything here runs on whatever tfjs backend is current.
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig, TrainConfig } from '../src/shared/modelConfig';
import { toLiveModel } from '../src/core/model/liveModel';
import { initParams } from '../src/core/model/params';
import { createTask } from '../src/core/tasks/registry';
import { AdamW } from '../src/core/train/adamw';
import { batchTensors, lastTokenLoss } from '../src/core/train/evaluate';
import { Rng } from '../src/core/util/rng';

export interface TimeLoopOptions {
  /** Untimed calls first (JIT, kernel setup, allocator growth). */
  warmup: number;
  /** Keep timing until this much time has passed... */
  minSeconds: number;
  /** ...or this many timed calls have run, whichever comes first (at least one always runs). */
  maxIters?: number;
}

export interface Timing {
  iters: number;
  seconds: number;
  /** Mean milliseconds per call. */
  meanMs: number;
}

/** Times `fn`, which must force its own completion (dataSync) so the clock measures the work. */
export function timeLoop(fn: () => void, opts: TimeLoopOptions): Timing {
  for (let i = 0; i < opts.warmup; i++) fn();
  const max = opts.maxIters ?? Number.POSITIVE_INFINITY;
  const t0 = performance.now();
  let iters = 0;
  let elapsed = 0;
  do {
    fn();
    iters += 1;
    elapsed = performance.now() - t0;
  } while (elapsed < opts.minSeconds * 1000 && iters < max);
  return { iters, seconds: elapsed / 1000, meanMs: elapsed / iters };
}

/** A random [rows, cols] float32 matrix from the seeded PRNG (the same values on every backend). */
export function randomMatrix(rows: number, cols: number, seed: number): tf.Tensor2D {
  const rng = new Rng(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return tf.tensor2d(data, [rows, cols]);
}

/** GFLOP/s of a plain [m, k]·[k, n] matMul, data read back each time. */
export function matmulGflops(m: number, k: number, n: number, opts: TimeLoopOptions): { gflops: number; timing: Timing } {
  const a = randomMatrix(m, k, 1);
  const b = randomMatrix(k, n, 2);
  try {
    const timing = timeLoop(() => {
      const c = tf.matMul(a, b);
      c.dataSync();
      c.dispose();
    }, opts);
    return { gflops: (2 * m * n * k) / (timing.meanMs * 1e6), timing };
  } finally {
    a.dispose();
    b.dispose();
  }
}

/** A model, its optimizer and a data stream: one call of `step` is one iteration of trainRun's loop. */
export interface Trainer {
  config: ModelConfig;
  batchSize: number;
  seqLen: number;
  /** Sample a batch, variableGrads of lastTokenLoss, AdamW apply (as src/core/train/trainingLoop.ts); returns the loss. */
  step(): number;
  /** lastTokenLoss's forward pass only, on one fixed batch; returns the loss. */
  forwardLoss(): number;
  dispose(): void;
}

export function makeTrainer(cfg: Pick<TrainConfig, 'model' | 'task' | 'taskOptions' | 'optimizer' | 'batchSize' | 'seed'>): Trainer {
  const task = createTask(cfg.task, cfg.taskOptions);
  if (task.vocab.length !== cfg.model.dVocab) throw new Error(`task '${cfg.task}' has ${task.vocab.length} tokens, model.dVocab is ${cfg.model.dVocab}`);
  const model = toLiveModel(cfg.model, initParams(cfg.model, cfg.seed));
  const optimizer = new AdamW(model.trainable, cfg.optimizer);
  const dataRng = new Rng(cfg.seed).fork(1);
  const fixed = batchTensors(task.sampleTrainBatch(new Rng(cfg.seed).fork(2), cfg.batchSize));
  return {
    config: cfg.model,
    batchSize: cfg.batchSize,
    seqLen: task.seqLen,
    step() {
      const batch = task.sampleTrainBatch(dataRng, cfg.batchSize);
      return tf.tidy(() => {
        const { tokens, targets } = batchTensors(batch);
        const { value, grads } = tf.variableGrads(() => lastTokenLoss(cfg.model, model.params, tokens, targets), model.trainable);
        const lossValue = value.dataSync()[0];
        if (Number.isFinite(lossValue)) optimizer.apply(model.trainable.map((v) => grads[v.name]));
        return lossValue;
      });
    },
    forwardLoss() {
      return tf.tidy(() => lastTokenLoss(cfg.model, model.params, fixed.tokens, fixed.targets).dataSync()[0]);
    },
    dispose() {
      optimizer.dispose();
      model.dispose();
      fixed.tokens.dispose();
      fixed.targets.dispose();
    },
  };
}

/** The kernels our wasm fixes replace, timed on their own, plus one forward pass that uses them. */
export interface KernelFixTimings {
  /** Mean ms of a 4032×128 · 128×128 product with transposeA (A stored as [128, 4032]). */
  transposedMatmulMs: number;
  /** The same product without transposes: the fixes leave it alone (a control). */
  plainMatmulMs: number;
  /** Mean ms of gathering 4032 rows of a 128×128 matrix (GatherV2, axis 0). */
  gatherMs: number;
  /** Mean ms of one forward pass (lastTokenLoss) of the given trainer's model. */
  forwardMs: number;
}

export function measureKernelFixes(trainer: Trainer, opts: TimeLoopOptions): KernelFixTimings {
  const rows = 4032;
  const d = 128;
  const at = randomMatrix(d, rows, 3);
  const a = randomMatrix(rows, d, 4);
  const b = randomMatrix(d, d, 5);
  const idxRng = new Rng(6);
  const idx = tf.tensor1d(Int32Array.from({ length: rows }, () => idxRng.int(0, d - 1)), 'int32');
  const run = (f: () => tf.Tensor): (() => void) => () => {
    const t = f();
    t.dataSync();
    t.dispose();
  };
  try {
    return {
      transposedMatmulMs: timeLoop(run(() => tf.matMul(at, b, true, false)), opts).meanMs,
      plainMatmulMs: timeLoop(run(() => tf.matMul(a, b)), opts).meanMs,
      gatherMs: timeLoop(run(() => tf.gather(b, idx)), opts).meanMs,
      forwardMs: timeLoop(() => trainer.forwardLoss(), opts).meanMs,
    };
  } finally {
    for (const t of [at, a, b, idx]) t.dispose();
  }
}

/** Self time spent inside backend kernel functions, by kernel name. */
export interface KernelClock {
  totalMs: number;
  byName: Map<string, { ms: number; calls: number }>;
}

/**
 * Runs `fn` with every registered kernel of `backendName` wrapped in a clock, then restores the
 * originals. Only outermost kernel calls are timed (a kernel that runs another through the engine is
 * counted once), so `totalMs` is the time inside kernels and the rest of a step's wall time is JS
 * and engine work: tape recording, tensor bookkeeping, tidy, batch sampling. Unlike tf.profile's
 * kernelMs, these times exclude the engine's own work around each kernel (e.g. saving tensors for
 * the backward pass) and never count a nested kernel twice.
 */
export function withKernelClock<R>(backendName: string, fn: () => R): { result: R; clock: KernelClock } {
  const originals = tf.getKernelsForBackend(backendName);
  const clock: KernelClock = { totalMs: 0, byName: new Map() };
  let depth = 0;
  const wrap = (k: tf.KernelConfig): tf.KernelConfig => ({
    ...k,
    kernelFunc: (args) => {
      if (depth > 0) return k.kernelFunc(args);
      depth += 1;
      const t0 = performance.now();
      try {
        return k.kernelFunc(args);
      } finally {
        const ms = performance.now() - t0;
        depth -= 1;
        clock.totalMs += ms;
        const e = clock.byName.get(k.kernelName) ?? { ms: 0, calls: 0 };
        e.ms += ms;
        e.calls += 1;
        clock.byName.set(k.kernelName, e);
      }
    },
  });
  // Registering after the backend initialised: setupFuncs have already run, and stay valid because
  // the wrappers call the original kernel functions.
  const swap = (configs: tf.KernelConfig[]): void => {
    for (const k of configs) {
      tf.unregisterKernel(k.kernelName, backendName);
      tf.registerKernel(k);
    }
  };
  swap(originals.map(wrap));
  try {
    return { result: fn(), clock };
  } finally {
    swap(originals);
  }
}

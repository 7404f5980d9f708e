// Child process of bench/train-bench.ts: times the workloads of measureKernelFixes on the STOCK wasm
// backend, i.e. without initBackend/registerWasmKernels, so tfjs-backend-wasm's own BatchMatMul and
// GatherV2 run. It must be a separate process because kernel registration is process-global and our
// fixes replace the stock kernels. Only forward work is timed: stock wasm has no UnsortedSegmentSum,
// so a training step (the gradient of a gather) fails there.
//
//   node scripts/run-ts.mjs bench/stock-wasm-step.ts [--min-seconds S]
//
// Prints one line: `STOCK_WASM_RESULT {json}` with KernelFixTimings and the wasm feature flags.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { presetConfig } from '../src/core/presets';
import { makeTrainer, measureKernelFixes } from './measure';

const RESULT_PREFIX = 'STOCK_WASM_RESULT ';

const argIdx = process.argv.indexOf('--min-seconds');
const minSeconds = argIdx > 0 ? Number(process.argv[argIdx + 1]) : 0.5;

if (!(await tf.setBackend('wasm'))) throw new Error("tf.setBackend('wasm') returned false");
await tf.ready();
const trainer = makeTrainer(presetConfig('ocr-factorized'));
try {
  const timings = measureKernelFixes(trainer, { warmup: 5, minSeconds });
  const flags = {
    simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
    threads: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
  };
  console.log(RESULT_PREFIX + JSON.stringify({ backend: tf.getBackend(), ...timings, flags }));
} finally {
  trainer.dispose();
}

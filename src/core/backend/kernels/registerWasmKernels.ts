import * as tf from '@tensorflow/tfjs';
import { makeBatchMatMulWasmConfig } from './BatchMatMul_wasm';
import { makeGatherV2WasmConfig } from './GatherV2_wasm';
import { makeIdentityWasmConfig } from './Identity_wasm';
import { unsortedSegmentSumWasmConfig } from './UnsortedSegmentSum_wasm';

let registered = false;

/**
 * Registers our wasm kernel fixes exactly once. Must run after the wasm backend module is imported and
 * before the backend initialises, since kernels' setupFuncs run at initialisation.
 */
export function registerWasmKernels(): void {
  if (registered) return;
  const originalMatMul = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  const gather = tf.getKernel('GatherV2', 'wasm');
  const identity = tf.getKernel('Identity', 'wasm');
  if (!originalMatMul || !transpose || !gather || !identity) throw new Error('wasm backend kernels BatchMatMul/Transpose/GatherV2/Identity not found');
  const fixes = [
    unsortedSegmentSumWasmConfig,
    makeBatchMatMulWasmConfig(originalMatMul, transpose),
    makeGatherV2WasmConfig(gather),
    makeIdentityWasmConfig(identity),
  ];
  for (const config of fixes) {
    if (tf.getKernel(config.kernelName, config.backendName)) tf.unregisterKernel(config.kernelName, config.backendName);
    tf.registerKernel(config);
  }
  registered = true;
}

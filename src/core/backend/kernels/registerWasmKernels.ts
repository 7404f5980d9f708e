import * as tf from '@tensorflow/tfjs';
import { makeBatchMatMulWasmConfig } from './BatchMatMul_wasm';
import { makeCastWasmConfig } from './Cast_wasm';
import { makeGatherV2WasmConfig } from './GatherV2_wasm';
import { makeIdentityWasmConfig } from './Identity_wasm';
import { registerInplaceKernels } from './inplaceKernels';
import { makeSliceWasmConfig } from './Slice_wasm';
import { makeSumWasmConfig } from './Sum_wasm';
import { makeTileWasmConfig } from './Tile_wasm';
import { unsortedSegmentSumWasmConfig } from './UnsortedSegmentSum_wasm';

let registered = false;
/** The backend's own kernels that registerWasmKernels replaced, by name (tests compare against them). */
const stock = new Map<string, tf.KernelConfig>();

export function stockWasmKernel(name: string): tf.KernelConfig | undefined {
  return stock.get(name);
}

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
  // Exact rewrites (the stock kernels' bits, faster): each delegates the cases it does not cover.
  const exact = (['Sum', 'Tile', 'Slice', 'Cast'] as const).map((name) => {
    const k = tf.getKernel(name, 'wasm');
    if (!k) throw new Error(`wasm backend kernel ${name} not found`);
    return { Sum: makeSumWasmConfig, Tile: makeTileWasmConfig, Slice: makeSliceWasmConfig, Cast: makeCastWasmConfig }[name](k);
  });
  const fixes = [
    unsortedSegmentSumWasmConfig,
    makeBatchMatMulWasmConfig(originalMatMul, transpose),
    makeGatherV2WasmConfig(gather),
    makeIdentityWasmConfig(identity),
    ...exact,
  ];
  for (const config of fixes) {
    const previous = tf.getKernel(config.kernelName, config.backendName);
    if (previous) {
      stock.set(config.kernelName, previous);
      tf.unregisterKernel(config.kernelName, config.backendName);
    }
    tf.registerKernel(config);
  }
  // Our own kernels (fused GELU) where they are built; ops fall back to composites without them.
  registerInplaceKernels();
  registered = true;
}

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend/initBackend';
import { ADAMW_KERNEL, type AdamWKernelAttrs } from '../../src/core/backend/kernels/inplaceKernels';
import { AdamW } from '../../src/core/train/adamw';
import { Rng } from '../../src/core/util/rng';

/**
 * The fused AdamW kernel (assembly/inplace.ts) must give the bits of the tfjs ops it replaces in
 * src/core/train/adamw.ts: training runs reproduce bit for bit whichever computes the step.
 */

function values(n: number, seed: number, scale: number, positive = false): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => {
    // magnitudes over many octaves, as moments and gradients have
    const x = (rng.next() - 0.5) * scale * Math.pow(10, -6 * rng.next());
    return positive ? Math.abs(x) : x;
  });
}

/** adamw.ts's step, op for op. */
function reference(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, a: { beta1: number; beta2: number; eps: number; lr: number; weightDecay: number; t: number }): tf.Tensor[] {
  const bc1 = 1 - Math.pow(a.beta1, a.t);
  const bc2 = 1 - Math.pow(a.beta2, a.t);
  const m2 = m.mul(a.beta1).add(g.mul(1 - a.beta1));
  const v2 = v.mul(a.beta2).add(g.square().mul(1 - a.beta2));
  const update = m2.div(bc1).div(v2.div(bc2).sqrt().add(a.eps));
  return [p.mul(1 - a.lr * a.weightDecay).sub(update.mul(a.lr)), m2, v2];
}

let wasm = false;
beforeAll(async () => {
  wasm = (await initBackend()).name === 'wasm';
});

describe('fused AdamW kernel', () => {
  const settings = [
    { beta1: 0.9, beta2: 0.98, eps: 1e-8, lr: 3e-3, weightDecay: 0.01, t: 1 },
    { beta1: 0.9, beta2: 0.999, eps: 1e-8, lr: 1e-3, weightDecay: 0, t: 17 },
    { beta1: 0.8, beta2: 0.95, eps: 1e-6, lr: 0.1, weightDecay: 0.1, t: 2500 },
  ];
  for (const s of settings) {
    it(`gives the tfjs ops' bits (β ${s.beta1}/${s.beta2}, lr ${s.lr}, λ ${s.weightDecay}, step ${s.t}), whole groups of four and the rest`, (ctx) => {
      if (!wasm) ctx.skip('the fused kernel serves the wasm backend');
      for (const n of [1, 7, 1000, 4099]) {
        tf.tidy(() => {
          const p = tf.tensor1d(values(n, 1, 2));
          const g = tf.tensor1d(values(n, 2, 1));
          const m = tf.tensor1d(values(n, 3, 0.1));
          const v = tf.tensor1d(values(n, 4, 0.01, true));
          const attrs: AdamWKernelAttrs = {
            beta1: s.beta1,
            oneMinusBeta1: 1 - s.beta1,
            beta2: s.beta2,
            oneMinusBeta2: 1 - s.beta2,
            bc1: 1 - Math.pow(s.beta1, s.t),
            bc2: 1 - Math.pow(s.beta2, s.t),
            eps: s.eps,
            decay: 1 - s.lr * s.weightDecay,
            lr: s.lr,
          };
          const fused = tf.engine().runKernel(ADAMW_KERNEL, { p, g, m, v }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
          const ref = reference(p, g, m, v, s);
          for (let i = 0; i < 3; i++) expect(fused[i].dataSync()).toEqual(ref[i].dataSync());
        });
      }
    });
  }
});

describe('AdamW on wasm', () => {
  it('takes the fused kernel, with the same bits as without it, step after step', (ctx) => {
    if (!wasm) ctx.skip('the fused kernel serves the wasm backend');
    const cfg = { name: 'adamw' as const, lr: 3e-3, weightDecay: 0.01, beta1: 0.9, beta2: 0.98, eps: 1e-8 };
    const train = (withKernel: boolean): Float32Array[] => {
      const kernel = tf.getKernel(ADAMW_KERNEL, 'wasm')!;
      let calls = 0;
      tf.unregisterKernel(ADAMW_KERNEL, 'wasm');
      if (withKernel) tf.registerKernel({ ...kernel, kernelFunc: (args) => ((calls += 1), kernel.kernelFunc(args)) });
      try {
        const vars = [tf.variable(tf.tensor2d(values(12, 5, 1), [3, 4])), tf.variable(tf.tensor1d(values(5, 6, 1)))];
        const opt = new AdamW(vars, cfg);
        for (let step = 0; step < 3; step++) {
          const grads = [tf.tensor2d(values(12, 10 + step, 1), [3, 4]), tf.tensor1d(values(5, 20 + step, 1))];
          opt.apply(grads);
          tf.dispose(grads);
        }
        const state = opt.exportState();
        const out = [...vars.map((v) => v.dataSync() as Float32Array), ...state.m.map((h) => h.data), ...state.v.map((h) => h.data)];
        opt.dispose();
        tf.dispose(vars);
        expect(calls).toBe(withKernel ? 6 : 0);
        return out;
      } finally {
        if (withKernel) tf.unregisterKernel(ADAMW_KERNEL, 'wasm');
        tf.registerKernel(kernel);
      }
    };
    expect(train(true)).toEqual(train(false));
  });
});

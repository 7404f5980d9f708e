import * as tf from '@tensorflow/tfjs';
import type { OptimizerConfig } from '../../shared/modelConfig';
import type { HostTensor } from '../model/params';
import { ADAMW_KERNEL, inPlaceKernelServes, type AdamWKernelAttrs } from '../backend/kernels/inplaceKernels';
import { hostCopies } from './hostCopy';

/** AdamW's whole state on the host: the step count and both moments, one per variable in order. */
export interface AdamWState {
  step: number;
  /** First moments (torch's exp_avg). */
  m: HostTensor[];
  /** Second moments (torch's exp_avg_sq). */
  v: HostTensor[];
}

/**
 * AdamW with decoupled weight decay, as torch.optim.AdamW (the authors' optimizer): tfjs ships Adam
 * but not the decoupled decay. Applies decay to every trainable tensor, as torch does by default.
 */
export class AdamW {
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private t = 0;

  constructor(
    private readonly vars: tf.Variable[],
    private readonly cfg: OptimizerConfig,
  ) {
    const zeros = (x: tf.Tensor): tf.Variable => {
      const z = tf.zerosLike(x);
      const v = tf.variable(z, false);
      z.dispose();
      return v;
    };
    this.m = vars.map(zeros);
    this.v = vars.map(zeros);
  }

  get step(): number {
    return this.t;
  }

  /** Host copies of the step count and moments, as saved beside a checkpoint (./optimizerState.ts). */
  exportState(): AdamWState {
    const host = (x: tf.Variable): HostTensor => ({ shape: x.shape.slice(), data: x.dataSync() as Float32Array });
    return { step: this.t, m: this.m.map(host), v: this.v.map(host) };
  }

  /** exportState read asynchronously (the training loop's saves; any backend, webgpu included). */
  async readState(): Promise<AdamWState> {
    const step = this.t;
    const [m, v] = await Promise.all([hostCopies(this.m), hostCopies(this.v)]);
    return { step, m, v };
  }

  /** Continues from a saved state: the next `apply` is the one the saved optimizer would have made. */
  restoreState(s: AdamWState): void {
    if (!Number.isSafeInteger(s.step) || s.step < 0) throw new Error(`AdamW state: step must be a non-negative integer, got ${s.step}`);
    if (s.m.length !== this.vars.length || s.v.length !== this.vars.length) {
      throw new Error(`AdamW state holds moments for ${s.m.length}/${s.v.length} tensors but ${this.vars.length} are trained`);
    }
    this.vars.forEach((p, i) => {
      for (const [what, h] of [['m', s.m[i]], ['v', s.v[i]]] as const) {
        if (h.shape.join(',') !== p.shape.join(',')) throw new Error(`AdamW state: ${what}[${i}] has shape [${h.shape}] but the variable is [${p.shape}]`);
      }
    });
    this.vars.forEach((_, i) => {
      tf.tidy(() => {
        this.m[i].assign(tf.tensor(s.m[i].data, s.m[i].shape, 'float32'));
        this.v[i].assign(tf.tensor(s.v[i].data, s.v[i].shape, 'float32'));
      });
    });
    this.t = s.step;
  }

  apply(grads: tf.Tensor[], lr = this.cfg.lr): void {
    this.t += 1;
    const { beta1, beta2, eps, weightDecay } = this.cfg;
    const bc1 = 1 - Math.pow(beta1, this.t);
    const bc2 = 1 - Math.pow(beta2, this.t);
    // On wasm, one fused kernel per tensor (assembly/inplace.ts): the same float32 operations in the same
    // order as the ops below, so the same bits, without ten passes over memory and their bookkeeping.
    const fused = inPlaceKernelServes(ADAMW_KERNEL);
    const attrs: AdamWKernelAttrs = { beta1, oneMinusBeta1: 1 - beta1, beta2, oneMinusBeta2: 1 - beta2, bc1, bc2, eps, decay: 1 - lr * weightDecay, lr };
    tf.tidy(() => {
      this.vars.forEach((p, i) => {
        const g = grads[i];
        if (fused && p.dtype === 'float32' && g.dtype === 'float32') {
          const [p2, m2, v2] = tf.engine().runKernel(ADAMW_KERNEL, { p, g, m: this.m[i], v: this.v[i] }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
          this.m[i].assign(m2);
          this.v[i].assign(v2);
          p.assign(p2);
          return;
        }
        const m = this.m[i].mul(beta1).add(g.mul(1 - beta1));
        const v = this.v[i].mul(beta2).add(g.square().mul(1 - beta2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        const update = m.div(bc1).div(v.div(bc2).sqrt().add(eps));
        p.assign(p.mul(1 - lr * weightDecay).sub(update.mul(lr)));
      });
    });
  }

  dispose(): void {
    for (const x of [...this.m, ...this.v]) x.dispose();
  }
}

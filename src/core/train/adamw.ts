import * as tf from '@tensorflow/tfjs';
import type { OptimizerConfig } from '../../shared/modelConfig';

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

  apply(grads: tf.Tensor[], lr = this.cfg.lr): void {
    this.t += 1;
    const { beta1, beta2, eps, weightDecay } = this.cfg;
    const bc1 = 1 - Math.pow(beta1, this.t);
    const bc2 = 1 - Math.pow(beta2, this.t);
    tf.tidy(() => {
      this.vars.forEach((p, i) => {
        const g = grads[i];
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

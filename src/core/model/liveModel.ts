import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../../shared/modelConfig';
import { paramSpecs, type HostTensor } from './params';
import type { Params } from './forward';

/** A model's parameters on the backend: trainable ones as variables, frozen ones as constants. */
export interface LiveModel {
  config: ModelConfig;
  params: Params;
  trainable: tf.Variable[];
  trainableNames: string[];
  dispose(): void;
}

export function toLiveModel(config: ModelConfig, host: Record<string, HostTensor>, opts: { trainable?: boolean } = {}): LiveModel {
  const params: Params = {};
  const trainable: tf.Variable[] = [];
  const trainableNames: string[] = [];
  for (const s of paramSpecs(config)) {
    const h = host[s.name];
    if (!h) throw new Error(`missing parameter ${s.name}`);
    const t = tf.tensor(h.data, h.shape, 'float32');
    if (s.trainable && opts.trainable !== false) {
      const v = tf.variable(t, true, `${s.name}#${tf.util.now()}`);
      t.dispose();
      params[s.name] = v;
      trainable.push(v);
      trainableNames.push(s.name);
    } else {
      params[s.name] = t;
    }
  }
  return {
    config,
    params,
    trainable,
    trainableNames,
    dispose() {
      for (const t of Object.values(params)) t.dispose();
    },
  };
}

/** Copies all parameters to host memory (checkpointing, analyses). */
export function toHost(model: LiveModel): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const [name, t] of Object.entries(model.params)) out[name] = { shape: t.shape.slice(), data: t.dataSync() as Float32Array };
  return out;
}

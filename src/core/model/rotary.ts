import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../../shared/modelConfig';

type Scaling = ModelConfig['rotaryScaling'];

/**
 * Rotary frequencies θ_i = base^(−2i/dims), i < dims/2, with transformers' rope_scaling applied
 * ('linear': all divided by the factor; 'llama3': wavelengths beyond originalContext / lowFreqFactor
 * divided, below originalContext / highFreqFactor kept, the band between blended). Float64.
 */
export function rotaryFrequencies(dims: number, base: number, scaling?: Scaling): Float64Array {
  const inv = Float64Array.from({ length: dims / 2 }, (_, i) => Math.pow(base, (-2 * i) / dims));
  if (!scaling) return inv;
  if (scaling.type === 'linear') return inv.map((f) => f / scaling.factor);
  const { factor, lowFreqFactor, highFreqFactor, originalContext } = scaling;
  const lowWavelen = originalContext / lowFreqFactor;
  const highWavelen = originalContext / highFreqFactor;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen > lowWavelen) return f / factor;
    if (wavelen < highWavelen) return f;
    const smooth = (originalContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}

/**
 * Rotary position embedding in the rotate-half layout of GPT-NeoX / Llama: the first `dims` of each
 * head are two halves (x1, x2) turned by angle p·θ_i, the rest pass through. x is [B, T, H, k] with
 * T = positions.length; angles are computed in float64.
 */
export function applyRotary(x: tf.Tensor4D, positions: readonly number[], dims: number, freqs: Float64Array): tf.Tensor4D {
  const [B, T, H, k] = x.shape;
  const half = dims / 2;
  const cos = new Float32Array(T * half);
  const sin = new Float32Array(T * half);
  positions.forEach((pos, t) => {
    for (let i = 0; i < half; i++) {
      cos[t * half + i] = Math.cos(pos * freqs[i]);
      sin[t * half + i] = Math.sin(pos * freqs[i]);
    }
  });
  const c = tf.tensor4d(cos, [1, T, 1, half]);
  const s = tf.tensor4d(sin, [1, T, 1, half]);
  const x1 = x.slice([0, 0, 0, 0], [B, T, H, half]);
  const x2 = x.slice([0, 0, 0, half], [B, T, H, half]);
  const parts = [x1.mul(c).sub(x2.mul(s)), x2.mul(c).add(x1.mul(s))];
  if (dims < k) parts.push(x.slice([0, 0, 0, dims], [B, T, H, k - dims]));
  return tf.concat(parts, -1) as tf.Tensor4D;
}

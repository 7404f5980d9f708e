import { Matrix, QrDecomposition } from 'ml-matrix';
import type { OvSpectrum } from '../../shared/analysis';
import type { Params } from '../model/forward';
import type { ModelConfig } from '../../shared/modelConfig';
import type { HostTensor } from '../model/params';
import { singularValues } from './linalg';

/** One (query) head's OV circuit W_OV = W_V[h] · W_O[h] ([d_model, d_model], acting on row vectors). */
export function ovMatrix(params: Record<string, HostTensor>, layer: number, head: number): { n: number; data: Float64Array } {
  const V = params[`blocks.${layer}.attn.W_V`];
  const O = params[`blocks.${layer}.attn.W_O`];
  if (!V || !O) throw new Error(`no attention weights for layer ${layer}`);
  const [Hkv, d, r] = V.shape;
  const H = O.shape[0];
  if (head < 0 || head >= H) throw new Error(`head ${head} outside 0..${H - 1}`);
  const out = new Float64Array(d * d);
  // Grouped-query attention: query head h reads key/value head ⌊h / (H / H_kv)⌋.
  const vOff = Math.floor(head / (H / Hkv)) * d * r;
  const oOff = head * r * d;
  for (let i = 0; i < d; i++)
    for (let k = 0; k < r; k++) {
      const v = V.data[vOff + i * r + k];
      if (v === 0) continue;
      for (let j = 0; j < d; j++) out[i * d + j] += v * O.data[oOff + k * d + j];
    }
  return { n: d, data: out };
}

export type { OvSpectrum } from '../../shared/analysis';

/**
 * Singular values (descending) and nuclear norm of every head's W_O W_V at each checkpoint, as plain
 * data: the weights behind arXiv 2506.10887 (which attributes the factorized model's generalisation to
 * a low-nuclear-norm bias of training the product). The raw values depend on the parametrisation's
 * scale, so runs of different OV form compare through the scale-free summaries in
 * src/shared/analyses/ovSpectrum.ts (σ_k / σ₁, effective rank), not through these norms.
 */
export function ovSpectrum(c: ModelConfig, checkpoints: { step: number; params: Record<string, HostTensor> }[], opts: { top?: number } = {}): OvSpectrum {
  const sorted = [...checkpoints].sort((a, b) => a.step - b.step);
  const heads: OvSpectrum['heads'] = [];
  for (let l = 0; l < c.nLayers; l++)
    for (let h = 0; h < c.nHeads; h++) {
      const svs: number[][] = [];
      const nuclear: number[] = [];
      for (const ck of sorted) {
        const m = ovMatrix(ck.params, l, h);
        const s = singularValues(m.n, m.n, m.data);
        nuclear.push(s.reduce((a, b) => a + b, 0));
        svs.push(opts.top ? s.slice(0, opts.top) : s);
      }
      heads.push({ layer: l, head: h, singular_values: svs, nuclear_norm: nuclear });
    }
  return { steps: sorted.map((c) => c.step), heads };
}

/**
 * The same spectra for a model on the backend (a Hugging Face folder: one set of weights, step 0),
 * exactly and without forming any d_model × d_model matrix: W_V[h] = Q R (thin QR, R is d_v × d_v),
 * so W_V[h] W_O[h] = Q (R W_O[h]) has the singular values of the d_v × d_model matrix R W_O[h]. Only
 * those d_v values can be non-zero (the circuit's rank is at most d_v), and only they are listed.
 * With grouped-query attention, query head h reads key/value head ⌊h / (H / H_kv)⌋, so W_V is that
 * head's. Host work is float64.
 */
export function ovSpectrumOfParams(c: ModelConfig, params: Params, opts: { top?: number } = {}): OvSpectrum {
  const heads: OvSpectrum['heads'] = [];
  const H = c.nHeads;
  for (let l = 0; l < c.nLayers; l++) {
    const V = params[`blocks.${l}.attn.W_V`];
    const O = params[`blocks.${l}.attn.W_O`];
    if (!V || !O) throw new Error(`no attention weights for layer ${l}`);
    const [Hkv, d, r] = V.shape as [number, number, number];
    const group = H / Hkv;
    const vData = V.dataSync();
    const oData = O.dataSync();
    const rOf: Matrix[] = [];
    for (let k = 0; k < Hkv; k++) {
      const m = new Matrix(d, r);
      for (let i = 0; i < d; i++) for (let j = 0; j < r; j++) m.set(i, j, vData[(k * d + i) * r + j]);
      rOf.push(new QrDecomposition(m).upperTriangularMatrix);
    }
    for (let h = 0; h < H; h++) {
      const o = new Matrix(r, d);
      for (let i = 0; i < r; i++) for (let j = 0; j < d; j++) o.set(i, j, oData[(h * r + i) * d + j]);
      const prod = rOf[Math.floor(h / group)].mmul(o);
      const s = singularValues(r, d, prod.to1DArray());
      heads.push({ layer: l, head: h, singular_values: [opts.top ? s.slice(0, opts.top) : s], nuclear_norm: [s.reduce((a, b) => a + b, 0)] });
    }
  }
  return { steps: [0], heads };
}

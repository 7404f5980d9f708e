import type { OvSpectrum } from '../../shared/analysis';
import type { ModelConfig } from '../../shared/modelConfig';
import type { HostTensor } from '../model/params';
import { singularValues } from './linalg';

/** One head's OV circuit W_OV = W_V[h] · W_O[h] ([d_model, d_model], acting on row vectors). */
export function ovMatrix(params: Record<string, HostTensor>, layer: number, head: number): { n: number; data: Float64Array } {
  const V = params[`blocks.${layer}.attn.W_V`];
  const O = params[`blocks.${layer}.attn.W_O`];
  if (!V || !O) throw new Error(`no attention weights for layer ${layer}`);
  const [H, d, r] = V.shape;
  if (head < 0 || head >= H) throw new Error(`head ${head} outside 0..${H - 1}`);
  const out = new Float64Array(d * d);
  const vOff = head * d * r;
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
 * Singular values (descending) and nuclear norm of every head's W_O W_V at each checkpoint: the
 * arXiv 2506.10887 story (factorized training minimises the nuclear norm of the combined OV matrix,
 * combined training its Frobenius norm) as plain data.
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

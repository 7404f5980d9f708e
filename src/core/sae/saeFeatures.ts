import * as tf from '@tensorflow/tfjs';
import type { HookName } from '../../shared/hooks';
import { tidyHost } from '../util/tidyHost';
import { binaryLabelMi, labelKinds, promptLabels, type LabelKind } from './featureLabels';
import { hookMatrix, validPositions } from './hookActivations';
import type { PromptBatch } from './promptSource';
import type { Sae } from './saeConfig';
import { disposeSae, encode, liveSae } from './saeModel';
import { saeShape } from './saeSplice';
import type { SaeSubject } from './saeSubject';
import type { SaeFeatureExample, SaeFeatureInfo, SaeFeatureRelevance, SaeFeatureReport } from '../../shared/sae';
import { norm } from '../analysis/linalg';

/**
 * Per-feature facts over evaluation prompts: density, top-activating examples (the prompt's tokens, the
 * position of the maximum and its activation), an activation histogram, the decoder direction's logit
 * effects through W_U, cosines with given vectors (a study's steering vectors), and relevance to labels
 * (mutual information between "fires anywhere in the prompt" and the label).
 */

/** The shapes the API returns (src/shared/sae.ts), so the report crosses to the app unchanged. */
export type FeatureExample = SaeFeatureExample;
export type FeatureRelevance = SaeFeatureRelevance;
export type FeatureInfo = SaeFeatureInfo;

/** The report, with the label kinds this task offers named as such. */
export interface FeatureReport extends SaeFeatureReport {
  labelKinds: LabelKind[];
  topByRelevance: Partial<Record<LabelKind, number[]>>;
}

export interface FeatureReportOptions {
  /** How many features to detail per ranking, and examples per feature. */
  top: number;
  examples: number;
  histogramBins: number;
  /** Vectors of d_in to take cosines with (e.g. trained_sv, natural_sv). */
  vectors?: Record<string, Float32Array>;
  /** The latent city (world tasks) for the `latent_country` label. */
  latentCity?: number;
}

const RESERVOIR = 256;

export function featureReport(subject: SaeSubject, sae: Sae, batches: readonly PromptBatch[], o: FeatureReportOptions): FeatureReport {
  const hook = sae.cfg.hook_name as HookName;
  const dSae = sae.cfg.d_sae;
  const d = sae.cfg.d_in;
  const shape = saeShape(sae);
  const kinds = labelKinds(subject.task, o.latentCity);
  const vocab = subject.vocab;
  const count = new Float64Array(dSae);
  const sum = new Float64Array(dSae);
  const max = new Float64Array(dSae);
  const reservoir: number[][] = Array.from({ length: dSae }, () => []);
  const seen = new Float64Array(dSae);
  // Per feature: the best examples as [activation, prompt index, position].
  const tops: [number, number, number][][] = Array.from({ length: dSae }, () => []);
  const promptTokens: string[][] = [];
  const promptLabel: string[] = [];
  const fires: Uint8Array[] = [];
  const labels: Record<string, string[]> = Object.fromEntries(kinds.map((k) => [k, [] as string[]]));
  let nTokens = 0;
  let rngState = 12345;
  const rand = (): number => ((rngState = (Math.imul(rngState, 1664525) + 1013904223) >>> 0) / 4294967296);

  const live = liveSae(sae.weights);
  try {
    for (const b of batches) {
      const pos = validPositions(b);
      const f = tidyHost(() => {
        const x = hookMatrix(subject, b, hook);
        return tf.gather(encode(live, x, shape), tf.tensor1d(pos, 'int32')).dataSync() as Float32Array;
      });
      for (const k of kinds) labels[k].push(...promptLabels(k, b, vocab, subject.task, o.latentCity));
      const base = promptTokens.length;
      for (let i = 0; i < b.B; i++) {
        promptTokens.push(Array.from(b.tokens.subarray(i * b.T, i * b.T + b.lengths[i]), (t) => vocab[t] ?? `#${t}`));
        promptLabel.push(b.labels?.[i] ?? '');
        fires.push(new Uint8Array(dSae));
      }
      for (let r = 0; r < pos.length; r++) {
        const prompt = base + Math.floor(pos[r] / b.T);
        const position = pos[r] % b.T;
        const row = f.subarray(r * dSae, (r + 1) * dSae);
        for (let i = 0; i < dSae; i++) {
          const a = row[i];
          if (!(a > 0)) continue;
          count[i] += 1;
          sum[i] += a;
          if (a > max[i]) max[i] = a;
          fires[prompt][i] = 1;
          seen[i] += 1;
          if (reservoir[i].length < RESERVOIR) reservoir[i].push(a);
          else {
            const j = Math.floor(rand() * seen[i]);
            if (j < RESERVOIR) reservoir[i][j] = a;
          }
          const t = tops[i];
          if (t.length < o.examples || a > t[t.length - 1][0]) {
            // One example per prompt: its best position.
            const same = t.findIndex((e) => e[1] === prompt);
            if (same >= 0) {
              if (t[same][0] >= a) continue;
              t.splice(same, 1);
            }
            t.push([a, prompt, position]);
            t.sort((p, q) => q[0] - p[0]);
            if (t.length > o.examples) t.pop();
          }
        }
      }
      nTokens += pos.length;
    }
  } finally {
    disposeSae(live);
  }

  const unit = (v: Float32Array): Float32Array => {
    const n = norm(v) || 1;
    return v.map((x) => x / n);
  };
  const vectors = Object.entries(o.vectors ?? {}).map(([name, v]) => {
    if (v.length !== d) throw new Error(`vector '${name}' has ${v.length} values but the SAE reads d_in ${d}`);
    return [name, unit(v)] as const;
  });
  const W = sae.weights.W_dec.data;
  const decNorm = Float64Array.from({ length: dSae }, (_, i) => norm(W.subarray(i * d, (i + 1) * d)) || 1);

  const features: FeatureInfo[] = [];
  for (let i = 0; i < dSae; i++) {
    const relevance: FeatureInfo['relevance'] = {};
    for (const k of kinds) {
      const lab = labels[k];
      if (lab.every((l) => l === '')) continue;
      relevance[k] = binaryLabelMi(fires.map((fr) => fr[i]), lab);
    }
    const cosines: Record<string, number> = {};
    for (const [name, u] of vectors) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += W[i * d + j] * u[j];
      cosines[name] = dot / decNorm[i];
    }
    features.push({ index: i, density: count[i] / Math.max(nTokens, 1), maxActivation: max[i], meanActivation: count[i] ? sum[i] / count[i] : 0, relevance, cosines });
  }

  const ranked = (score: (f: FeatureInfo) => number): number[] =>
    features
      .filter((f) => f.density > 0 || vectors.length > 0)
      .map((f) => [f.index, score(f)] as const)
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, o.top)
      .map(([i]) => i);
  const topByRelevance: FeatureReport['topByRelevance'] = {};
  for (const k of kinds) topByRelevance[k] = ranked((f) => f.relevance[k]?.mi ?? -1).filter((i) => features[i].density > 0);
  const topByCosine: Record<string, number[]> = {};
  for (const [name] of vectors) topByCosine[name] = ranked((f) => Math.abs(f.cosines[name]));
  const pick = new Set<number>([...ranked((f) => (f.density > 0 ? f.density : -1)).filter((i) => features[i].density > 0), ...Object.values(topByRelevance).flat(), ...Object.values(topByCosine).flat()]);

  const detailed = [...pick].sort((a, b) => a - b).map((i) => {
    const f = features[i];
    const bins = o.histogramBins;
    const hist = Array.from({ length: bins }, (_, j) => ({ from: (max[i] * j) / bins, to: (max[i] * (j + 1)) / bins, count: 0 }));
    for (const a of reservoir[i]) hist[Math.min(bins - 1, Math.floor((a / (max[i] || 1)) * bins))].count += 1;
    return {
      ...f,
      topExamples: tops[i].map(([a, p, position]) => ({ tokens: promptTokens[p], position, activation: a, ...(promptLabel[p] ? { label: promptLabel[p] } : {}) })),
      histogram: hist,
      ...(logitEffects(subject, sae, i, o.top) ?? {}),
    };
  });

  return { hook, architecture: sae.cfg.architecture, dIn: d, dSae, nPrompts: promptTokens.length, nTokens, labelKinds: kinds, features, detailed, topByRelevance, topByCosine };
}

/**
 * The decoder direction read straight through the unembedding (W_dec,i · W_U, final norm ignored): the
 * tokens it promotes and suppresses most. Only for residual-stream hooks of a model with an unembedding.
 */
export function logitEffects(subject: SaeSubject, sae: Sae, feature: number, n: number): Pick<FeatureInfo, 'logitEffects'> | null {
  const c = subject.config;
  const name = sae.cfg.hook_name.replace(/^blocks\.\d+\./, '');
  const residLike = ['hook_resid_pre', 'hook_resid_mid', 'hook_resid_post', 'hook_attn_out', 'hook_mlp_out', 'hook_embed', 'ln_final.hook_normalized'];
  if (!residLike.includes(name) || sae.cfg.d_in !== c.dModel || c.unembed === 'identity') return null;
  const d = sae.cfg.d_in;
  const values = tidyHost(() => {
    const dir = tf.tensor2d(sae.weights.W_dec.data.subarray(feature * d, (feature + 1) * d), [1, d]);
    const W = c.unembed === 'tied' ? subject.params['embed.W_E'].transpose() : subject.params['unembed.W_U'];
    return dir.matMul(W as tf.Tensor2D).dataSync() as Float32Array;
  });
  const order = Array.from(values.keys()).sort((a, b) => values[b] - values[a]);
  const vocab = subject.vocab;
  const entry = (i: number): { token: string; value: number } => ({ token: vocab[i] ?? `#${i}`, value: values[i] });
  return { logitEffects: { promoted: order.slice(0, n).map(entry), suppressed: order.slice(-n).reverse().map(entry) } };
}

import type { HookName } from './hooks';
import type { LoraSpec, PeftLoraSpec } from './finetune';
import { ApiArgumentError } from './errors';
import type { Metrics, ModelConfig } from './modelConfig';

/**
 * Result types of the interpretability analyses (src/core/analysis/{attention,logitLens,patching}.ts):
 * plain data only, so the UI can import them without tfjs. Shapes are stated here once. Letters:
 * P prompts, T positions (tokens per prompt), H heads, L layers, V vocabulary.
 *
 * Inputs are int32 token ids as `number[][]`, [P][T]: every prompt the same length, 1 ≤ T ≤ nCtx.
 */

// ─── Attention ──────────────────────────────────────────────────────────────────────────────────────

/**
 * One layer's attention, `heads[head][prompt][query][key]`, i.e. [H][P][T][T] (the hook
 * `blocks.{l}.attn.hook_pattern` [P, H, T, T] with heads moved first). Causal: entries with
 * key > query are 0. Softmax attention: each row sums to 1. Linear attention: rows are the raw masked
 * scores q·k (no normalisation).
 */
export interface LayerAttention {
  layer: number;
  hook: HookName;
  heads: number[][][][];
}

export interface AttentionPatternsResult {
  layers: LayerAttention[];
}

// ─── Logit lens ─────────────────────────────────────────────────────────────────────────────────────

export interface TokenProb {
  token: number;
  logit: number;
  prob: number;
}

export interface LensTarget extends TokenProb {
  /** Tokens with a strictly higher logit: 0 = the lens's top-1 prediction. */
  rank: number;
}

export interface LensPrompt {
  /** Top-k tokens by logit, descending. */
  top: TokenProb[];
  /** The prompt's answer token, when targets were given. */
  target?: LensTarget;
}

/** The lens at one residual hook: `prompts[prompt]`. */
export interface LensHook {
  hook: HookName;
  /** Layers applied before this hook: `blocks.{l}.hook_resid_pre` → l, the final resid_post → L. */
  depth: number;
  prompts: LensPrompt[];
}

export interface LogitLensResult {
  /** The position read (default the last). */
  position: number;
  /** Whether the final LayerNorm (with its statistics recomputed on each hook's residual) was applied. */
  layerNorm: boolean;
  /** `blocks.{l}.hook_resid_pre` for l = 0..L−1, then `blocks.{L−1}.hook_resid_post`. */
  hooks: LensHook[];
}

// ─── Direct logit attribution ───────────────────────────────────────────────────────────────────────

/** 'attn': a layer's whole attention output, where a norm after it (Gemma 2/3) keeps heads from adding up. */
export type DlaComponentKind = 'embed' | 'pos_embed' | 'head' | 'attn' | 'mlp';

/** One component's direct contribution to the answer logit (minus the baseline's), per prompt. */
export interface DlaComponent {
  kind: DlaComponentKind;
  /** `embed`, `pos_embed`, `L{l}H{h}`, `Attn{l}`, `MLP{l}`. */
  label: string;
  layer?: number;
  head?: number;
  /** [P]. */
  values: number[];
}

export interface DirectLogitAttributionResult {
  position: number;
  /** [P]: the answer token of each prompt. */
  answer: number[];
  /** [P]: the baseline token of each prompt, or null when plain answer logits are attributed. */
  baseline: number[] | null;
  /**
   * The components writing to the final residual stream. With a residual stream: the embeddings, every
   * head (its slice z_h · W_O[h]) and every MLP output. Without one (`residual: false`) only the last
   * layer's output reaches the logits: its heads when the model has no MLP, else its MLP output.
   */
  components: DlaComponent[];
  /** [P]: what no component writes: the unembedding bias, the final LayerNorm's bias and the attention output biases b_O, projected. */
  bias: number[];
  /** [P]: the model's logit(answer) − logit(baseline) (or logit(answer)). */
  logit: number[];
  /** [P]: Σ components + bias; equals `logit` up to float error (the decomposition is exact). */
  sum: number[];
  /**
   * 'none': no LayerNorm, the attribution is exactly linear. 'frozen-scale': the final norm's scale
   * (LayerNorm's σ, or RMSNorm's root mean square) is computed on the full final residual and held
   * fixed, so each component contributes ((c − mean c) / σ ⊙ w) · u (RMSNorm: (c / rms ⊙ w) · u). The sum is still exact; what is approximate is reading a component's
   * value as its effect, since removing it would change σ.
   */
  layerNorm: 'none' | 'frozen-scale';
  /**
   * Set where the model soft-caps its logits (cap·tanh(raw / cap), Gemma 2): the components then add up
   * to the raw logit before the cap, which is what `logit` holds.
   */
  finalSoftcap?: number;
}

// ─── Activation patching ────────────────────────────────────────────────────────────────────────────

/**
 * Patching metrics: (LD_patched − LD_corrupted) / (LD_clean − LD_corrupted), where LD = logit(answer) −
 * logit(wrong) at the last position. 1 = the patch restores the clean answer, 0 = no effect.
 */
export interface PatchingBase {
  answer: number;
  wrong: number;
  cleanLogitDiff: number;
  corruptedLogitDiff: number;
}

export interface ResidualPatchingResult extends PatchingBase {
  hook: 'resid_pre' | 'resid_post';
  /** metric[layer][position], [L][T]: clean `blocks.{layer}.hook_{hook}` at that position. */
  metric: number[][];
}

export interface HeadPatchingResult extends PatchingBase {
  /** metric[layer][head], [L][H]: that head's clean `attn.hook_z` at every position. */
  metric: number[][];
  /** metric[layer][head][position], [L][H][T]: one head at one position (when asked for). */
  perPosition?: number[][][];
}

export interface PatchResult extends PatchingBase {
  patchedLogitDiff: number;
  metric: number;
}

// ─── Weights: OV spectra ────────────────────────────────────────────────────────────────────────────

/** Singular values (descending) and nuclear norm of each head's W_O W_V at each checkpoint step. */
export interface OvSpectrum {
  steps: number[];
  /** singular_values[stepIndex][k], nuclear_norm[stepIndex]. */
  heads: { layer: number; head: number; singular_values: number[][]; nuclear_norm: number[] }[];
}

// ─── Projections ────────────────────────────────────────────────────────────────────────────────────

export interface PointLabel {
  /** The token at the projected position (or the embedded token). */
  token: string;
  /** Token family (`city`, `name`, …) or the eval split a prompt came from. */
  group: string;
  /** The prompt's answer token, where there is one. */
  answer?: string;
  prompt?: number;
  position?: number;
  /** The text projected, when the caller gave texts. */
  text?: string;
}

export interface Projection3D {
  method: 'pca' | 'umap';
  /** [n][3]. */
  points: number[][];
  labels: PointLabel[];
  /** PCA only: share of variance along each of the 3 axes. */
  varianceRatio?: number[];
  /**
   * Fine-tuned runs: [n][3], where each point sits under the base model, projected jointly with
   * `points` (one fit over both sets), so arrows origin → point show what the fine-tune moved.
   */
  origins?: number[][];
}

// ─── LoRA vs steering ───────────────────────────────────────────────────────────────────────────────

export interface DeltaSummary {
  nTokens: number;
  /** Mean |cos| over distinct pairs of token deltas. */
  meanAbsCos: number;
  /** Uncentred PCA: share of the deltas' second moment along PC1 ("one direction" test). */
  pc1VarRatio: number;
  /** Centred PCA's PC1 share (how structured the variation around the mean is). */
  pc1VarRatioCentred: number;
  meanNorm: number;
  /** PC1 of the uncentred PCA, sign-aligned with the mean delta, scaled to the mean delta norm. */
  naturalVector: number[];
  /** |cos| between PC1 and the mean delta. */
  cosPc1Mean: number;
}

/** Mean off-diagonal |cos| of token deltas per block of the full matrix, and the tokens of each set. */
export interface CosBlockMeans {
  train: number;
  unrelated: number;
  /** train × unrelated pairs. */
  across: number;
  n_train: number;
  n_unrelated: number;
}

export interface DeltaCosTrained {
  labels: string[];
  values: number[];
  mean: { train: number; unrelated: number; all: number };
}

export interface LayerSweepEntry {
  layer: number;
  hook: string;
  pc1_var_ratio: number;
  mean_abs_cos: number;
  mean_norm: number;
  cos_natural_trained?: number;
}

export interface SeedsRecord {
  /** `n` / `side_effect_n`: the questions behind `acc` / `side_effect_acc`, where recorded. */
  runs: { seed: number; acc: number; side_effect_acc: number; norm: number; n?: number; side_effect_n?: number }[];
  cos: number[][];
}

/** A number per evaluated intervention of a study. */
export interface EvalCounts {
  base: number;
  lora: number;
  natural_sv: number;
  trained_sv: number;
  trained_sv_seed2: number;
}

export interface LoraVsSteeringReport {
  acc: { base: number; lora: number; natural_sv: number; trained_sv: number };
  side_effect_acc: { base: number; lora: number; natural_sv: number; trained_sv: number };
  lora_delta: { mean_abs_cos: number; pc1_var_ratio: number };
  cos_trained_vs_natural: number;
  cos_trained_across_seeds: number;
  /** The study folder (absolute in the CLI's report; '.' in the record on disk). */
  run: string;
}

/** The full record written to analyses/lora_vs_steering.json (the report is its summary). */
export interface LoraVsSteeringAnalysis extends LoraVsSteeringReport {
  /** 'locations' | 'backdoor' on the toy world; a real-model study names its dataset's kind. */
  kind: string;
  seed: number;
  latentCity: number | null;
  hook: HookName;
  chance: number;
  /** The toy study's LoRA (canonical matrices); a real-model study has `peft` instead. */
  lora?: LoraSpec;
  /** A real-model study's LoRA as PEFT names it (target modules of the Hugging Face model). */
  peft?: PeftLoraSpec;
  /** A real-model study: the model folder, dataset and adapter (relative to the study folder on disk). */
  model?: { dir: string; modelType: string; data: string; adapter: string; adapterTrainedHere: boolean };
  /** cos(LoRA delta of each token, trained vector): a display sample and the means per set. */
  delta_cos_trained?: DeltaCosTrained;
  /** Every layer's resid_post deltas: where the LoRA's effect is most one-directional. */
  layer_sweep?: LayerSweepEntry[];
  /** Each trained vector (one per seed): its held-out and side-effect accuracy and norm, and cosines between seeds. */
  seeds?: SeedsRecord;
  deltas: { train: DeltaSummary; unrelated: DeltaSummary; all: DeltaSummary };
  /**
   * Display sample of the |cos| matrix: first half training-prompt tokens, second half unrelated. Labels
   * are `set:token@position`. Newer toy records also give each sampled token's position and whether it
   * is the read-out (the last position, where the answer is read).
   */
  cos_matrix: { labels: string[]; values: number[][]; positions?: number[]; readout?: boolean[] };
  /** Mean off-diagonal |cos| per block of the full matrix over every token delta (not the display sample). */
  cos_block_means?: CosBlockMeans;
  /**
   * Evaluation questions behind each accuracy, per method: `acc[m]` is the share right of `eval_n.acc[m]`
   * questions (the sets are of equal size, so the mean over sets is the share over all of them).
   */
  eval_n?: { acc: EvalCounts; side_effect_acc: EvalCounts };
  /**
   * Which questions the accuracies come from: the study's own draw (seed `seed`), the same for every
   * method; not the fine-tune runs' own final evaluation (a different draw, shown in Runs).
   */
  evaluation?: { seed: number; heldout_sets: { name: string; n: number }[]; side_effect_sets: { name: string; n: number }[] };
  delta_w_singular_values: { weight: string; values: number[] }[];
  metrics: { base: Metrics; lora: Metrics; natural_sv: Metrics; trained_sv: Metrics; trained_sv_seed2: Metrics };
  /** The fine-tune runs (relative to the study folder in the record on disk). */
  runs: { lora: string; steer: string; steer_seed2: string };
  norms: { natural_sv: number; trained_sv: number; trained_sv_seed2: number };
}

// ─── Input checks (shared by core analyses and UI forms) ────────────────────────────────────────────

/** User mistakes: these throw ApiArgumentError (a client error, not a crash). */

/** Checks prompts [P][T] against a model: non-empty, equal lengths, T ≤ nCtx, ids in the vocabulary. */
export function checkPrompts(c: ModelConfig, tokens: readonly (readonly number[])[], what = 'tokens'): { P: number; T: number } {
  if (!Array.isArray(tokens) || tokens.length === 0) throw new ApiArgumentError(`${what}: need at least one prompt`);
  const T = tokens[0].length;
  if (T < 1) throw new ApiArgumentError(`${what}: prompts must hold at least one token`);
  if (T > c.nCtx) throw new ApiArgumentError(`${what}: prompts of ${T} tokens exceed the model's nCtx ${c.nCtx}`);
  for (let i = 0; i < tokens.length; i++) {
    const row: readonly number[] = tokens[i];
    if (row.length !== T) throw new ApiArgumentError(`${what}: all prompts must have the same length; prompt ${i} has ${row.length} tokens, prompt 0 has ${T}`);
    for (let j = 0; j < T; j++) {
      const t = row[j];
      if (!Number.isInteger(t) || t < 0 || t >= c.dVocab) {
        throw new ApiArgumentError(`${what}: prompt ${i} position ${j}: token ${t} is not an id in 0..${c.dVocab - 1}`);
      }
    }
  }
  return { P: tokens.length, T };
}

export function checkToken(c: ModelConfig, t: number, what: string): void {
  if (!Number.isInteger(t) || t < 0 || t >= c.dVocab) throw new ApiArgumentError(`${what}: token ${t} is not an id in 0..${c.dVocab - 1}`);
}

export function checkLayer(c: ModelConfig, l: number, what = 'layer'): void {
  if (!Number.isInteger(l) || l < 0 || l >= c.nLayers) throw new ApiArgumentError(`${what}: layer ${l} outside 0..${c.nLayers - 1}`);
}

export function checkPosition(T: number, p: number, what = 'position'): void {
  if (!Number.isInteger(p) || p < 0 || p >= T) throw new ApiArgumentError(`${what}: position ${p} outside 0..${T - 1}`);
}

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import type { ModelConfig } from '../../../shared/modelConfig';
import { writeFileAtomicSync } from '../../io/atomicWrite';
import { writeSafetensorsFileSync, type NamedTensor } from '../../io/safetensors';
import { paramSpecs, type HostTensor } from '../../model/params';
import { archOf, dV } from '../../model/resolveConfig';
import { transpose } from '../architectures/shared';
import { CONFIG_FILE } from '../loadHfModel';
import { TOKENIZER_CONFIG_FILE, TOKENIZER_FILE } from '../tokenizer';
import { SINGLE_FILE } from '../weightSource';

/**
 * A toy model (a checkpoint of src/core/model) as a Hugging Face GPT-2 folder: config.json (GPT2Config),
 * model.safetensors (GPT2LMHeadModel names and layouts, the exact inverse of ../architectures/gpt2.ts)
 * and a WordLevel tokenizer.json over the toy vocabulary, loadable by transformers and by ../loadHfModel.
 *
 * GPT-2's lm_head has no bias. A learned unembedding bias b_U is folded into ln_f's bias: logits =
 * (LN(x)·w + b)·W_U + b_U = (LN(x)·w + b')·W_U once W_Uᵀ(b' − b) = b_U, solved by least squares in
 * float64 (exact whenever W_U has rank d_vocab, e.g. d_model ≥ d_vocab generically). The exported
 * model's logits equal the toy's; its ln_final.b (and so its normalised final residual) differs by δ.
 */

export interface ToyExportResult {
  dir: string;
  /** max |W_Uᵀ δ − b_U| with δ as written (float32): the logit error the fold leaves. 0 without b_U. */
  maxFoldResidual: number;
}

/** The fold is refused beyond this × max(1, max |b_U|). */
export const FOLD_TOLERANCE = 1e-4;

/**
 * Why GPT-2 cannot hold this toy config, or null. Each reason names the config field. GPT-2 is LayerNorm
 * pre-norm softmax attention with learned token and position embeddings, d_head-wide values,
 * n_head · d_head = n_embd, and an ungated MLP; biases the toy lacks are written as zeros.
 */
export function gpt2ExportProblems(c: ModelConfig): string[] {
  const a = archOf(c);
  const p: string[] = [];
  if (!c.layerNorm) p.push('layerNorm is false (GPT-2 always normalises: ln_1, ln_2, ln_f)');
  if (a.norm !== 'LN') p.push(`norm is '${a.norm}' (GPT-2 uses LayerNorm with a bias)`);
  if (c.attention !== 'softmax') p.push(`attention is '${c.attention}' (GPT-2 attention is softmax)`);
  if (c.ov !== 'factorized') p.push(`ov is '${c.ov}' (GPT-2 has a learned W_V and W_O per head)`);
  else if (dV(c) !== c.dHead) p.push(`ovRank ${dV(c)} differs from dHead ${c.dHead} (GPT-2 values are d_head wide)`);
  if (c.nHeads * c.dHead !== c.dModel) p.push(`nHeads × dHead = ${c.nHeads} × ${c.dHead} ≠ dModel ${c.dModel} (GPT-2 has n_head · d_head = n_embd)`);
  if (a.nKeyValueHeads !== c.nHeads) p.push(`nKeyValueHeads ${a.nKeyValueHeads} ≠ nHeads ${c.nHeads} (GPT-2 has no grouped-query attention)`);
  if (!c.mlp) p.push('mlp is false (every GPT-2 block has an MLP)');
  if (!c.residual) p.push('residual is false (GPT-2 blocks add to the residual stream)');
  if (c.embed !== 'learned') p.push(`embed is '${c.embed}' (GPT-2 has a learned token embedding)`);
  if (!c.posEmbed) p.push('posEmbed is false (GPT-2 has a learned position embedding)');
  if (c.wK !== 'learned') p.push(`wK is '${c.wK}' (GPT-2 has a learned W_K)`);
  if (c.unembed === 'identity') p.push(`unembed is 'identity' (GPT-2 unembeds with lm_head or the tied wte)`);
  if (a.rotaryDims > 0) p.push(`rotaryDims is ${a.rotaryDims} (GPT-2 has no rotary embedding)`);
  if (a.gatedMlp) p.push('gatedMlp is true (GPT-2 MLPs are not gated)');
  if (a.act !== 'gelu_new') p.push(`act is '${a.act}' (this export writes GPT-2's gelu_new)`);
  if (a.parallelAttnMlp) p.push('parallelAttnMlp is true (GPT-2 blocks are sequential)');
  if (a.qkNorm) p.push('qkNorm is true (GPT-2 has no query/key norms)');
  if (a.postNorms) p.push('postNorms is true (GPT-2 has no post-norms)');
  if (a.embedScale !== 1) p.push(`embedScale is ${a.embedScale} (GPT-2 does not scale embeddings)`);
  if (a.attnSoftcap > 0) p.push(`attnSoftcap is ${a.attnSoftcap} (GPT-2 has no attention soft-capping)`);
  if (a.finalSoftcap > 0) p.push(`finalSoftcap is ${a.finalSoftcap} (GPT-2 has no logit soft-capping)`);
  if (a.slidingWindow > 0) p.push(`slidingWindow is ${a.slidingWindow} (GPT-2 attends to the whole context)`);
  if (!closeTo(a.attnScale, Math.sqrt(c.dHead)) && !closeTo(a.attnScale, 1)) {
    p.push(`attnScale is ${a.attnScale} (GPT-2 divides scores by sqrt(d_head) = ${Math.sqrt(c.dHead)} or, with scale_attn_weights false, by 1)`);
  }
  return p;
}

function closeTo(x: number, y: number): boolean {
  return Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(y));
}

/**
 * Writes `config.json`, `model.safetensors`, `tokenizer.json` and `tokenizer_config.json` into
 * `outDir` (created if needed; refused if it already holds a config.json), each file atomically.
 * `vocab[i]` names token id i. Throws, naming the field, for configs GPT-2 cannot express, and when
 * the unembedding bias cannot be folded into ln_f.
 */
export function exportToyAsGpt2(opts: { config: ModelConfig; params: Record<string, HostTensor>; vocab: readonly string[]; outDir: string }): ToyExportResult {
  const { config: c, params, vocab, outDir } = opts;
  const problems = gpt2ExportProblems(c);
  if (problems.length) throw new Error(`cannot export this model as GPT-2: ${problems.join('; ')}`);
  checkVocab(c, vocab);
  for (const s of paramSpecs(c)) {
    const t = params[s.name];
    if (!t) throw new Error(`cannot export: parameter ${s.name} [${s.shape}] is missing`);
    if (t.shape.join(',') !== s.shape.join(',')) throw new Error(`cannot export: parameter ${s.name} is [${t.shape}] but the config needs [${s.shape}]`);
  }
  if (existsSync(join(outDir, CONFIG_FILE))) throw new Error(`${outDir} already holds a ${CONFIG_FILE}; choose an empty folder`);

  const tensors: Record<string, NamedTensor> = {};
  const { lnfBias, residual } = foldedFinalBias(c, params);
  writeWeights(c, params, lnfBias, tensors);

  writeSafetensorsFileSync(join(outDir, SINGLE_FILE), tensors, { format: 'pt' });
  writeFileAtomicSync(join(outDir, TOKENIZER_FILE), `${JSON.stringify(wordLevelTokenizer(vocab), null, 2)}\n`);
  writeFileAtomicSync(join(outDir, TOKENIZER_CONFIG_FILE), `${JSON.stringify(tokenizerConfig(c, vocab), null, 2)}\n`);
  // config.json last: a folder is a model once it has one, and a half-written export must not pass for one.
  writeFileAtomicSync(join(outDir, CONFIG_FILE), `${JSON.stringify(gpt2Config(c, vocab), null, 2)}\n`);
  return { dir: outDir, maxFoldResidual: residual };
}

function checkVocab(c: ModelConfig, vocab: readonly string[]): void {
  if (vocab.length !== c.dVocab) throw new Error(`the vocabulary has ${vocab.length} tokens but the model has dVocab ${c.dVocab}`);
  const seen = new Map<string, number>();
  vocab.forEach((t, i) => {
    if (t.length === 0 || /\s/.test(t)) throw new Error(`token ${i} (${JSON.stringify(t)}) is empty or holds whitespace: a whitespace-split tokenizer cannot produce it`);
    const prior = seen.get(t);
    if (prior !== undefined) throw new Error(`tokens ${prior} and ${i} are both ${JSON.stringify(t)}`);
    seen.set(t, i);
  });
}

/** The token unknown words map to: the first noise token where the task has one (meaningless filler). */
export function unknownToken(vocab: readonly string[]): string | null {
  return vocab.find((t) => /^noise(_\d+)?$/.test(t)) ?? null;
}

/** transformers' GPT2Config for `c` (every field GPT2Config.to_dict writes that this model sets). */
function gpt2Config(c: ModelConfig, vocab: readonly string[]): Record<string, unknown> {
  const a = archOf(c);
  const end = vocab.indexOf('end');
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: c.dVocab,
    n_positions: c.nCtx,
    n_ctx: c.nCtx,
    n_embd: c.dModel,
    n_layer: c.nLayers,
    n_head: c.nHeads,
    n_inner: c.dMlp,
    activation_function: 'gelu_new',
    resid_pdrop: 0,
    embd_pdrop: 0,
    attn_pdrop: 0,
    summary_first_dropout: 0,
    layer_norm_epsilon: a.normEps,
    initializer_range: 0.02,
    scale_attn_weights: !closeTo(a.attnScale, 1) || closeTo(c.dHead, 1),
    scale_attn_by_inverse_layer_idx: false,
    reorder_and_upcast_attn: false,
    use_cache: true,
    tie_word_embeddings: c.unembed === 'tied',
    // The toy sequences carry no BOS; their last prompt token ('end') is where the answer is read.
    bos_token_id: null,
    eos_token_id: end >= 0 ? end : null,
    torch_dtype: 'float32',
  };
}

/**
 * A WordLevel tokenizer over the toy vocabulary (id = index), split on whitespace, no normaliser and
 * no post-processor (no BOS); without a decoder, decoding joins tokens with single spaces (the Rust
 * library's and @huggingface/tokenizers' behaviour). WordLevel needs an unk_token: the first noise
 * token where there is one (an unknown word reads as filler), else "<unk>", which is not in the
 * vocabulary (the Rust tokenizer then refuses unknown words).
 */
function wordLevelTokenizer(vocab: readonly string[]): Record<string, unknown> {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: { type: 'WhitespaceSplit' },
    post_processor: null,
    decoder: null,
    model: { type: 'WordLevel', vocab: Object.fromEntries(vocab.map((t, i) => [t, i])), unk_token: unknownToken(vocab) ?? '<unk>' },
  };
}

function tokenizerConfig(c: ModelConfig, vocab: readonly string[]): Record<string, unknown> {
  const unk = unknownToken(vocab);
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    model_max_length: c.nCtx,
    clean_up_tokenization_spaces: false,
    ...(unk ? { unk_token: unk } : {}),
    ...(vocab.includes('end') ? { eos_token: 'end' } : {}),
  };
}

/**
 * ln_f's bias with b_U folded in, and the fold's residual max |W_Uᵀ δ − b_U| for δ = b' − b as stored
 * (float32). Tied or bias-free unembeddings keep ln_final.b.
 */
function foldedFinalBias(c: ModelConfig, params: Record<string, HostTensor>): { lnfBias: Float32Array; residual: number } {
  const b = params['ln_final.b'].data;
  const bU = params['unembed.b_U']?.data;
  if (c.unembed !== 'learned' || !bU) return { lnfBias: Float32Array.from(b), residual: 0 };
  const d = c.dModel;
  const V = c.dVocab;
  const WU = params['unembed.W_U'].data; // [d, V]
  // Minimum-norm least squares W_Uᵀ δ = b_U (W_Uᵀ is V × d; either shape may be the wider one).
  const WUt = Array.from({ length: V }, (_, v) => Array.from({ length: d }, (_, i) => WU[i * V + v]));
  const svd = new SingularValueDecomposition(new Matrix(WUt), { autoTranspose: true });
  const delta = svd.solve(Matrix.columnVector(Array.from(bU))).getColumn(0);
  const lnfBias = Float32Array.from(delta, (x, i) => b[i] + x);
  let residual = 0;
  let scale = 1;
  for (let v = 0; v < V; v++) {
    let s = 0;
    for (let i = 0; i < d; i++) s += WU[i * V + v] * (lnfBias[i] - b[i]);
    residual = Math.max(residual, Math.abs(s - bU[v]));
    scale = Math.max(scale, Math.abs(bU[v]));
  }
  if (!(residual <= FOLD_TOLERANCE * scale)) {
    throw new Error(
      `the unembedding bias b_U cannot be represented in GPT-2 layout (no lm_head bias): folding it into ln_f.bias leaves logit errors up to ${residual.toExponential(2)} ` +
        `(allowed ${(FOLD_TOLERANCE * scale).toExponential(2)}); W_U [${d}, ${V}] must have rank d_vocab, e.g. d_model ≥ d_vocab`,
    );
  }
  return { lnfBias, residual };
}

/** The GPT2LMHeadModel state dict: the inverse of ../architectures/gpt2.ts, biases the toy lacks as zeros. */
function writeWeights(c: ModelConfig, params: Record<string, HostTensor>, lnfBias: Float32Array, out: Record<string, NamedTensor>): void {
  const d = c.dModel;
  const H = c.nHeads;
  const k = c.dHead;
  const m = c.dMlp;
  const put = (name: string, shape: number[], data: Float32Array): void => {
    out[name] = { shape, data };
  };
  const p = (name: string): Float32Array => params[name].data;
  const orZeros = (name: string, n: number): Float32Array => (params[name] ? Float32Array.from(params[name].data) : new Float32Array(n));
  put('transformer.wte.weight', [c.dVocab, d], Float32Array.from(p('embed.W_E')));
  put('transformer.wpe.weight', [c.nCtx, d], Float32Array.from(p('pos_embed.W_pos')));
  for (let l = 0; l < c.nLayers; l++) {
    const hf = `transformer.h.${l}.`;
    const tl = `blocks.${l}.`;
    put(`${hf}ln_1.weight`, [d], Float32Array.from(p(`${tl}ln1.w`)));
    put(`${hf}ln_1.bias`, [d], Float32Array.from(p(`${tl}ln1.b`)));
    put(`${hf}ln_2.weight`, [d], Float32Array.from(p(`${tl}ln2.w`)));
    put(`${hf}ln_2.bias`, [d], Float32Array.from(p(`${tl}ln2.b`)));
    // c_attn [d, 3d] (Conv1D: in, out): Q | K | V column blocks, each head-major: column off + h·k + j is W[h, i, j].
    const cAttn = new Float32Array(d * 3 * d);
    const cAttnBias = new Float32Array(3 * d);
    (['Q', 'K', 'V'] as const).forEach((x, blk) => {
      const W = p(`${tl}attn.W_${x}`); // [H, d, k]
      const bias = params[`${tl}attn.b_${x}`]?.data; // [H, k]
      const off = blk * d;
      for (let h = 0; h < H; h++) {
        for (let i = 0; i < d; i++) for (let j = 0; j < k; j++) cAttn[i * 3 * d + off + h * k + j] = W[(h * d + i) * k + j];
        if (bias) for (let j = 0; j < k; j++) cAttnBias[off + h * k + j] = bias[h * k + j];
      }
    });
    put(`${hf}attn.c_attn.weight`, [d, 3 * d], cAttn);
    put(`${hf}attn.c_attn.bias`, [3 * d], cAttnBias);
    // W_O [H, k, d] is already the Conv1D [H·k, d] with the input head-major.
    put(`${hf}attn.c_proj.weight`, [d, d], Float32Array.from(p(`${tl}attn.W_O`)));
    put(`${hf}attn.c_proj.bias`, [d], orZeros(`${tl}attn.b_O`, d));
    put(`${hf}mlp.c_fc.weight`, [d, m], Float32Array.from(p(`${tl}mlp.W_in`)));
    put(`${hf}mlp.c_fc.bias`, [m], orZeros(`${tl}mlp.b_in`, m));
    put(`${hf}mlp.c_proj.weight`, [m, d], Float32Array.from(p(`${tl}mlp.W_out`)));
    put(`${hf}mlp.c_proj.bias`, [d], orZeros(`${tl}mlp.b_out`, d));
  }
  put('transformer.ln_f.weight', [d], Float32Array.from(p('ln_final.w')));
  put('transformer.ln_f.bias', [d], lnfBias);
  if (c.unembed === 'learned') put('lm_head.weight', [c.dVocab, d], transpose(p('unembed.W_U'), d, c.dVocab));
}

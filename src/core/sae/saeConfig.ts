/**
 * A sparse autoencoder's configuration as SAELens writes it in `cfg.json` (REFERENCES.md, "SAELens
 * SAEs"), and the weights as plain host arrays. Names are the format's own (snake_case on disk).
 *
 * We write the flat keys of SAELens 5 (`hook_name`, `hook_layer`, `model_name`, `activation_fn_str`,
 * `activation_fn_kwargs`) and the `architecture` / top-level `k` / `metadata` object of SAELens 6, so
 * either version's loader finds what it reads; we read either.
 */

export type SaeArchitecture = 'standard' | 'topk';

/** The fields this workbench reads and writes (unknown keys of a loaded cfg.json are kept in `extra`). */
export interface SaeConfig {
  architecture: SaeArchitecture;
  d_in: number;
  d_sae: number;
  /** TopK only: active features per input. */
  k?: number;
  hook_name: string;
  /** The block the hook is in (-1 for hooks before the first block, e.g. hook_embed). */
  hook_layer: number;
  model_name: string;
  dtype: 'float32';
  device: 'cpu';
  /** Always true here: b_dec is subtracted from the input before encoding. */
  apply_b_dec_to_input: boolean;
  normalize_activations: 'none';
  context_size: number;
  prepend_bos: boolean;
  dataset_path: string;
}

export interface HostMatrix {
  shape: number[];
  data: Float32Array;
}

/** The four SAELens tensors: W_enc [d_in, d_sae], b_enc [d_sae], W_dec [d_sae, d_in], b_dec [d_in]. */
export interface SaeWeights {
  W_enc: HostMatrix;
  b_enc: HostMatrix;
  W_dec: HostMatrix;
  b_dec: HostMatrix;
}

export interface Sae {
  cfg: SaeConfig;
  weights: SaeWeights;
}

/** The SAELens file names. */
export const SAE_CFG_FILE = 'cfg.json';
export const SAE_WEIGHTS_FILE = 'sae_weights.safetensors';
/** Ours, beside them: one JSON line per logged training step, and the final summary. */
export const SAE_METRICS_FILE = 'metrics.jsonl';
export const SAE_SUMMARY_FILE = 'training_summary.json';

/** cfg.json as written: SAELens 5's flat keys plus SAELens 6's `metadata`. */
export function cfgJson(cfg: SaeConfig): Record<string, unknown> {
  const topk = cfg.architecture === 'topk';
  return {
    architecture: cfg.architecture,
    d_in: cfg.d_in,
    d_sae: cfg.d_sae,
    ...(topk ? { k: cfg.k } : {}),
    dtype: cfg.dtype,
    device: cfg.device,
    apply_b_dec_to_input: cfg.apply_b_dec_to_input,
    normalize_activations: cfg.normalize_activations,
    finetuning_scaling_factor: false,
    model_name: cfg.model_name,
    hook_name: cfg.hook_name,
    hook_layer: cfg.hook_layer,
    hook_head_index: null,
    activation_fn_str: topk ? 'topk' : 'relu',
    activation_fn_kwargs: topk ? { k: cfg.k } : {},
    context_size: cfg.context_size,
    prepend_bos: cfg.prepend_bos,
    dataset_path: cfg.dataset_path,
    sae_lens_training_version: null,
    metadata: {
      model_name: cfg.model_name,
      hook_name: cfg.hook_name,
      hook_head_index: null,
      context_size: cfg.context_size,
      prepend_bos: cfg.prepend_bos,
      dataset_path: cfg.dataset_path,
      sae_lens_training_version: null,
      trained_with: 'oocr-workbench',
    },
  };
}

/** The layer of a TransformerLens hook name (`blocks.3.hook_resid_post` → 3; others → -1). */
export function hookLayer(hook: string): number {
  const m = /^blocks\.(\d+)\./.exec(hook);
  return m ? Number(m[1]) : -1;
}

/**
 * Reads a cfg.json object of SAELens 5 or 6. Throws a message naming `file` for what this workbench
 * cannot run (jumprelu, gated, a head index, a normalisation it does not apply).
 */
export function parseCfg(raw: unknown, file: string): SaeConfig {
  const fail = (problem: string): never => {
    throw new Error(`${file}: ${problem}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('expected a JSON object');
  const o = raw as Record<string, unknown>;
  const meta = (typeof o.metadata === 'object' && o.metadata !== null ? o.metadata : {}) as Record<string, unknown>;
  const pick = (key: string): unknown => (o[key] !== undefined ? o[key] : meta[key]);
  const int = (key: string, min: number): number => {
    const v = pick(key);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) return fail(`"${key}" must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
    return v;
  };
  const actFn = typeof o.activation_fn_str === 'string' ? o.activation_fn_str : typeof o.activation_fn === 'string' ? o.activation_fn : undefined;
  let arch = typeof o.architecture === 'string' ? o.architecture : actFn === 'topk' ? 'topk' : 'standard';
  if (arch === 'standard' && actFn === 'topk') arch = 'topk';
  if (arch === 'jumprelu' || arch === 'gated' || arch === 'batchtopk' || arch === 'matryoshka_batchtopk') {
    return fail(`architecture '${arch}' is not supported (this workbench runs 'standard' ReLU and 'topk' SAEs)`);
  }
  if (arch !== 'standard' && arch !== 'topk') return fail(`unknown architecture '${arch}' (expected 'standard' or 'topk')`);
  if (actFn !== undefined && actFn !== 'relu' && actFn !== 'topk') return fail(`activation function '${actFn}' is not supported (relu or topk)`);
  const d_in = int('d_in', 1);
  const d_sae = int('d_sae', 1);
  let k: number | undefined;
  if (arch === 'topk') {
    const kwargs = (typeof o.activation_fn_kwargs === 'object' && o.activation_fn_kwargs !== null ? o.activation_fn_kwargs : {}) as Record<string, unknown>;
    const kv = o.k ?? kwargs.k;
    if (typeof kv !== 'number' || !Number.isInteger(kv) || kv < 1 || kv > d_sae) return fail(`a topk SAE needs an integer k in 1..d_sae (${d_sae}), got ${JSON.stringify(kv)}`);
    k = kv;
  }
  const hook = pick('hook_name');
  if (typeof hook !== 'string' || !hook) return fail('"hook_name" missing');
  const head = pick('hook_head_index');
  if (head !== undefined && head !== null) return fail(`hook_head_index ${JSON.stringify(head)}: SAEs on one attention head are not supported`);
  const norm = o.normalize_activations;
  if (norm !== undefined && norm !== null && norm !== 'none') {
    return fail(`normalize_activations '${String(norm)}' is not applied by this workbench (only 'none'); fold the scaling into the weights first`);
  }
  const dtype = o.dtype;
  if (dtype !== undefined && typeof dtype === 'string' && !/float32|float16|bfloat16|float64|torch\.float/.test(dtype)) return fail(`dtype '${dtype}' is not a float type`);
  const layer = pick('hook_layer');
  return {
    architecture: arch,
    d_in,
    d_sae,
    ...(k !== undefined ? { k } : {}),
    hook_name: hook,
    hook_layer: typeof layer === 'number' && Number.isInteger(layer) ? layer : hookLayer(hook),
    model_name: typeof pick('model_name') === 'string' ? (pick('model_name') as string) : '',
    dtype: 'float32',
    device: 'cpu',
    apply_b_dec_to_input: o.apply_b_dec_to_input === undefined ? true : o.apply_b_dec_to_input === true,
    normalize_activations: 'none',
    context_size: typeof pick('context_size') === 'number' ? (pick('context_size') as number) : 0,
    prepend_bos: pick('prepend_bos') === true,
    dataset_path: typeof pick('dataset_path') === 'string' ? (pick('dataset_path') as string) : '',
  };
}

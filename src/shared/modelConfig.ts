import { z } from 'zod';
import type { FinetuneInfo } from './finetune';

/**
 * The switches real architectures differ by (DESIGN.md §10). All optional: absent means the toy
 * transformer's behaviour (`archOf()` in core fills the defaults), so toy configs, checkpoints and run
 * manifests written before these fields existed stay valid and byte-identical.
 */
const ArchitectureFields = {
  /** Where `layerNorm` is on: 'LN' (centre, scale, w and b) or 'RMS' (scale by the root mean square, w only). Default 'LN'. */
  norm: z.enum(['LN', 'RMS']).optional(),
  /** ε inside the normalisation's square root. Default 1e-5. */
  normEps: z.number().positive().max(1).optional(),
  /** Rotary position embedding on the first `rotaryDims` of every query/key head (GPT-NeoX rotate-half layout). Default 0: none. */
  rotaryDims: z.number().int().min(0).max(4096).optional(),
  /** Rotary base θ. Default 10000. */
  rotaryBase: z.number().positive().optional(),
  /** Rotary base of sliding-window layers (Gemma 3's local layers). Default: rotaryBase. */
  rotaryBaseLocal: z.number().positive().optional(),
  /**
   * Rotary frequency scaling of full-attention layers, as transformers' rope_scaling: 'linear' divides
   * every frequency by `factor`; 'llama3' divides only the low ones and blends the middle band. Default none.
   */
  rotaryScaling: z
    .discriminatedUnion('type', [
      z.object({ type: z.literal('linear'), factor: z.number().positive() }).strict(),
      z
        .object({
          type: z.literal('llama3'),
          factor: z.number().positive(),
          lowFreqFactor: z.number().positive(),
          highFreqFactor: z.number().positive(),
          originalContext: z.number().int().positive(),
        })
        .strict(),
    ])
    .optional(),
  /** Key/value heads (grouped-query attention): W_K and W_V are [nKeyValueHeads, d_model, d_head]. Default nHeads. */
  nKeyValueHeads: z.number().int().min(1).max(256).optional(),
  /** Gated MLP: act(x W_gate) ⊙ (x W_in) W_out. Default false. */
  gatedMlp: z.boolean().optional(),
  /** MLP activation. 'gelu_new' is GPT-2's tanh approximation (= gelu_pytorch_tanh), 'gelu' the exact erf form. Default 'gelu_new'. */
  act: z.enum(['gelu_new', 'gelu', 'silu', 'relu']).optional(),
  /** Attention and MLP both read the block input and add to it (GPT-NeoX, GPT-J). Default false. */
  parallelAttnMlp: z.boolean().optional(),
  /** b_Q, b_K, b_V. Default false. */
  qkvBias: z.boolean().optional(),
  /** b_O. Default false. */
  attnOutBias: z.boolean().optional(),
  /** b_in (and b_out). Default true, as the toy MLP. */
  mlpBias: z.boolean().optional(),
  /** Learned unembedding bias b_U. Default true. */
  unembedBias: z.boolean().optional(),
  /** RMS-normalise each query and key head before rotary (Gemma 3: attn.q_norm.w, attn.k_norm.w). Default false. */
  qkNorm: z.boolean().optional(),
  /** Normalise attention and MLP outputs before they join the residual stream (Gemma 2/3: ln1_post, ln2_post). Default false. */
  postNorms: z.boolean().optional(),
  /** Token embeddings are multiplied by this (Gemma: sqrt(d_model)). Default 1. */
  embedScale: z.number().positive().optional(),
  /** Attention scores are q·k / attnScale. Default sqrt(dHead). */
  attnScale: z.number().positive().optional(),
  /** Attention scores become cap·tanh(score / cap) before masking. Default 0: off. */
  attnSoftcap: z.number().min(0).optional(),
  /** Logits become cap·tanh(logit / cap). Default 0: off. */
  finalSoftcap: z.number().min(0).optional(),
  /** Sliding-window layers attend to the last `slidingWindow` keys only (self included). Default 0: off. */
  slidingWindow: z.number().int().min(0).optional(),
  /** Which layers slide (Gemma 2 every other one, Gemma 3 five of six). Default: every layer when slidingWindow > 0. */
  slidingLayers: z.array(z.number().int().min(0)).optional(),
};

/**
 * The one serialisable model config. `resolveConfig()` in core completes and checks it; checkpoints
 * store the resolved form. Models branch on these fields, never on subclasses.
 */
export const ModelConfigSchema = z
  .object({
    // The bounds admit the real models of DESIGN.md §10 (Gemma's 256k vocabulary, 128k contexts).
    nLayers: z.number().int().min(1).max(256),
    dModel: z.number().int().min(1).max(65536),
    nHeads: z.number().int().min(1).max(256),
    /** Query/key width per head. */
    dHead: z.number().int().min(1).max(4096),
    dVocab: z.number().int().min(2).max(1_048_576),
    nCtx: z.number().int().min(1).max(1_048_576),
    dMlp: z.number().int().min(0).max(262_144),
    /** 'softmax' is the usual causal attention; 'linear' uses the raw causal-masked scores q·k. */
    attention: z.enum(['softmax', 'linear']),
    /**
     * 'factorized': W_V [H, d_model, r] and W_O [H, r, d_model], both trained (OV rank r = ovRank).
     * 'combined': W_V fixed to the identity and one trained W_O [H, d_model, d_model] (= W_OV).
     */
    ov: z.enum(['factorized', 'combined']),
    ovRank: z.number().int().min(1).max(4096),
    mlp: z.boolean(),
    layerNorm: z.boolean(),
    residual: z.boolean(),
    posEmbed: z.boolean(),
    /** 'identity' embeds token i as the one-hot e_i (needs dModel = dVocab) and is frozen. */
    embed: z.enum(['learned', 'identity']),
    /** 'tied' uses W_E transposed; 'identity' reads the residual stream as logits (dModel = dVocab). */
    unembed: z.enum(['learned', 'tied', 'identity']),
    /** 'identity' fixes W_K = I (needs dHead = dModel). */
    wK: z.enum(['learned', 'identity']),
    /** Init scale multiplier for trained matrices (std = initScale / sqrt(fan_in)). */
    initScale: z.number().positive().max(100),
    ...ArchitectureFields,
  })
  .strict();
export type ModelConfig = z.infer<typeof ModelConfigSchema>;

export const OptimizerConfigSchema = z
  .object({
    name: z.literal('adamw'),
    lr: z.number().positive().max(10),
    weightDecay: z.number().min(0).max(10),
    beta1: z.number().min(0).lt(1),
    beta2: z.number().min(0).lt(1),
    eps: z.number().positive(),
  })
  .strict();
export type OptimizerConfig = z.infer<typeof OptimizerConfigSchema>;

export const TrainConfigSchema = z
  .object({
    task: z.string().min(1),
    /** Task options: each task validates its own. */
    taskOptions: z.record(z.string(), z.unknown()),
    model: ModelConfigSchema,
    optimizer: OptimizerConfigSchema,
    steps: z.number().int().min(1).max(10_000_000),
    batchSize: z.number().int().min(1).max(65536),
    seed: z.number().int().min(0).max(2 ** 31 - 1),
    /** Log metrics every N steps (and at the last step). */
    logEvery: z.number().int().min(1),
    /** Save a checkpoint every N steps (and at the last step); 0 saves only the last. */
    checkpointEvery: z.number().int().min(0),
    /** Fresh sequences per split when measuring accuracy. */
    evalSamples: z.number().int().min(1).max(1_000_000),
  })
  .strict();
export type TrainConfig = z.infer<typeof TrainConfigSchema>;

/** Metric names every task reports: `${split}_${kind}_acc` and `${split}_${kind}_loss`. */
export type Metrics = Record<string, number>;

export interface MetricsLine {
  step: number;
  /** Seconds since the run started. */
  time: number;
  loss: number;
  metrics: Metrics;
}

/**
 * 'interrupted' is never written: it is derived when a run is listed (core's runStore effectiveStatus)
 * for a run.json still saying 'running' whose job is gone (killed), which can be resumed.
 */
export type RunStatus = 'running' | 'completed' | 'cancelled' | 'failed' | 'interrupted';

export interface RunManifest {
  format: 'oocr-run/1';
  id: string;
  preset: string | null;
  createdAt: string;
  updatedAt: string;
  status: RunStatus;
  error?: string;
  config: TrainConfig;
  backend: string;
  versions: Record<string, string>;
  /** Step reached (last completed optimizer step). */
  step: number;
  seconds: number;
  checkpoints: { step: number; file: string }[];
  finalMetrics?: Metrics;
  /** Questions behind each final `*_acc` (absent: every split had 4 × evalSamples fresh sequences). */
  finalEvalCounts?: Record<string, number>;
  /** Present on runs made by fine-tuning a base checkpoint. */
  finetune?: FinetuneInfo;
}

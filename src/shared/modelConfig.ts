import { z } from 'zod';
import type { FinetuneInfo } from './finetune';

/**
 * The one serialisable model config. `resolveConfig()` in core completes and checks it; checkpoints
 * store the resolved form. Models branch on these fields, never on subclasses.
 */
export const ModelConfigSchema = z
  .object({
    nLayers: z.number().int().min(1).max(48),
    dModel: z.number().int().min(1).max(4096),
    nHeads: z.number().int().min(1).max(64),
    /** Query/key width per head. */
    dHead: z.number().int().min(1).max(4096),
    dVocab: z.number().int().min(2).max(65536),
    nCtx: z.number().int().min(1).max(4096),
    dMlp: z.number().int().min(0).max(16384),
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

export type RunStatus = 'running' | 'completed' | 'cancelled' | 'failed';

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
  /** Present on runs made by fine-tuning a base checkpoint. */
  finetune?: FinetuneInfo;
}

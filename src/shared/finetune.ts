import { z } from 'zod';

/** Matrices LoRA can adapt, by their TransformerLens names within a block. */
export const LORA_TARGETS = ['attn.W_Q', 'attn.W_K', 'attn.W_V', 'attn.W_O', 'mlp.W_in', 'mlp.W_out'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

/** As PEFT's LoraConfig: r, lora_alpha (scale alpha / r), target_modules, layers_to_transform. */
export const LoraSpecSchema = z
  .object({
    rank: z.number().int().min(1).max(1024),
    alpha: z.number().positive().max(4096),
    targets: z.array(z.enum(LORA_TARGETS)).min(1),
    layers: z.array(z.number().int().min(0)).min(1),
  })
  .strict();
export type LoraSpec = z.infer<typeof LoraSpecSchema>;

/** One vector added at `hook` (default `blocks.{layer}.hook_resid_post`) at every or the chosen positions. */
export const SteerSpecSchema = z
  .object({
    layer: z.number().int().min(0),
    hook: z.string().optional(),
    /** 'completion': the positions a text dataset's loss is read at (its completion tokens); text fine-tunes only. */
    positions: z.union([z.literal('all'), z.literal('completion'), z.array(z.number().int().min(0)).min(1)]),
  })
  .strict();
export type SteerSpec = z.infer<typeof SteerSpecSchema>;

/**
 * A LoRA on a Hugging Face model, as PEFT's LoraConfig names it: r, lora_alpha (scale alpha / r),
 * target_modules (module names: 'c_attn', 'q_proj', 'mlp.c_proj') and layers_to_transform.
 */
export const PeftLoraSpecSchema = z
  .object({
    r: z.number().int().min(1).max(1024),
    alpha: z.number().positive().max(4096),
    targetModules: z.array(z.string().min(1)).min(1),
    layers: z.array(z.number().int().min(0)).min(1),
  })
  .strict();
export type PeftLoraSpec = z.infer<typeof PeftLoraSpecSchema>;

export const FinetuneMethodSchema = z.enum(['full', 'lora', 'steer']);
export type FinetuneMethod = z.infer<typeof FinetuneMethodSchema>;

/** Recorded in a fine-tune run's run.json. */
export const FinetuneInfoSchema = z
  .object({
    /** The base checkpoint, relative to the run folder (older runs hold an absolute path; both resolve). */
    base: z.string().min(1),
    method: FinetuneMethodSchema,
    lora: LoraSpecSchema.optional(),
    steer: SteerSpecSchema.optional(),
    /** File (relative to the run) holding the trained tensors: adapter or vector or full weights (a PEFT adapter folder for model fine-tunes). */
    weights: z.string().optional(),
    /** 'model': `base` is a Hugging Face model folder fine-tuned on a text dataset; absent: a toy checkpoint. */
    baseKind: z.enum(['checkpoint', 'model']).optional(),
    /** LoRA of a model fine-tune, in PEFT's terms. */
    peft: PeftLoraSpecSchema.optional(),
    /** The JSONL files of a model fine-tune, relative to the run folder. */
    data: z.object({ train: z.string().min(1), eval: z.string().optional(), sideEffects: z.string().optional() }).strict().optional(),
  })
  .strict();
export type FinetuneInfo = z.infer<typeof FinetuneInfoSchema>;

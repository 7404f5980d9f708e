import { z } from 'zod';
import type { WorkbenchMethod } from './api';

export const RunId = z
  .string()
  .min(1)
  .max(300)
  .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)?$/, 'a run id is a folder name (optionally group/name) of letters, digits, . _ -')
  .refine((s) => !s.split('/').some((p) => p === '.' || p === '..'), 'a run id may not contain . or .. segments');

const Step = z.number().int().min(0).max(1e9).optional();
const Prompt = z.string().min(1).max(2000).optional();
const TokenName = z.string().min(1).max(200).optional();
const HookSource = z
  .string()
  .max(100)
  .regex(/^(embed|hook_embed|hook_pos_embed|blocks\.\d{1,3}\.[a-z_.]+)$/, "'embed' or a TransformerLens hook name such as blocks.0.hook_resid_post");

export const AnalysisRequestSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('attention'), id: RunId, step: Step, prompt: Prompt }).strict(),
  z.object({ kind: z.literal('logit-lens'), id: RunId, step: Step, prompt: Prompt, answer: TokenName, topK: z.number().int().min(1).max(50).optional() }).strict(),
  z.object({ kind: z.literal('patching'), id: RunId, step: Step, prompt: Prompt, corrupt: Prompt, answer: TokenName, wrong: TokenName }).strict(),
  z.object({ kind: z.literal('ov-spectrum'), id: RunId, top: z.number().int().min(1).max(4096).optional() }).strict(),
  z
    .object({
      kind: z.literal('projection'),
      id: RunId,
      step: Step,
      source: HookSource,
      method: z.enum(['pca', 'umap']),
      promptsPerSet: z.number().int().min(1).max(500).optional(),
      neighbors: z.number().int().min(2).max(200).optional(),
      minDist: z.number().min(0).max(1).optional(),
    })
    .strict(),
]);

/** Argument schemas per method: the single place where untrusted input is checked. */
export const API_ARGS = {
  getBackendInfo: z.undefined(),
  listRuns: z.undefined(),
  getRun: z.object({ id: RunId }).strict(),
  samplePrompts: z.object({ id: RunId, perSet: z.number().int().min(1).max(50).optional() }).strict(),
  analyze: AnalysisRequestSchema,
  listStudies: z.undefined(),
  getStudy: z.object({ id: RunId }).strict(),
  startStudy: z
    .object({
      name: RunId,
      kind: z.enum(['locations', 'backdoor']),
      seed: z.number().int().min(0).max(2 ** 31 - 1),
      loraSteps: z.number().int().min(1).max(100_000).optional(),
      steerSteps: z.number().int().min(1).max(100_000).optional(),
    })
    .strict(),
  listPresets: z.undefined(),
  startTraining: z
    .object({
      preset: z.string().min(1).max(100),
      name: RunId,
      overrides: z
        .object({
          steps: z.number().int().min(1).max(1_000_000).optional(),
          seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
          lr: z.number().positive().max(10).optional(),
          weightDecay: z.number().min(0).max(10).optional(),
          batchSize: z.number().int().min(1).max(100_000).optional(),
          ovRank: z.number().int().min(1).max(4096).optional(),
        })
        .strict()
        .optional(),
    })
    .strict(),
  cancel: z.object({ jobId: z.string().min(1).max(100) }).strict(),
} as const satisfies { [M in WorkbenchMethod]: z.ZodType };


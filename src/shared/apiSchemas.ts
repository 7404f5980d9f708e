import { z } from 'zod';
import type { WorkbenchMethod } from './api';
import { AnalysisRequestSchema } from './analyses';
import { RunId, RunName } from './runId';
import { SaeFeaturesArgs, SaeInterventionArgs, SaeName, StartSaeArgs } from './sae';
import { StartSweepArgs, SweepName } from './sweeps';

export { AnalysisRequestSchema } from './analyses';
export { RunId, RunName } from './runId';

/** An absolute folder path on the machine that runs the workbench (POSIX or Windows). */
export const FolderPath = z
  .string()
  .min(1)
  .max(4096)
  .refine((s) => !s.includes('\0'), 'a path may not contain NUL')
  .refine((s) => s.startsWith('/') || /^[A-Za-z]:[\\/]/.test(s) || s.startsWith('\\\\'), 'give an absolute folder path (e.g. /home/me/models/gpt2)');

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
      name: RunName,
      kind: z.enum(['locations', 'backdoor']),
      seed: z.number().int().min(0).max(2 ** 31 - 1),
      loraSteps: z.number().int().min(1).max(100_000).optional(),
      steerSteps: z.number().int().min(1).max(100_000).optional(),
    })
    .strict(),
  listPresets: z.undefined(),
  listJobs: z.undefined(),
  resumeRun: z.object({ id: RunId }).strict(),
  startTraining: z
    .object({
      preset: z.string().min(1).max(100),
      name: RunName,
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
  listSweeps: z.undefined(),
  listSweepPresets: z.undefined(),
  getSweep: z.object({ name: SweepName }).strict(),
  checkSweep: StartSweepArgs,
  startSweep: StartSweepArgs,
  cancelSweep: z.object({ name: SweepName }).strict(),
  listSaes: z.undefined(),
  getSae: z.object({ name: SaeName }).strict(),
  startSae: StartSaeArgs,
  saeFeatures: SaeFeaturesArgs,
  saeIntervention: SaeInterventionArgs,
  listModels: z.undefined(),
  openModel: z
    .object({
      path: FolderPath.describe('the model folder (config.json, *.safetensors, tokenizer.json)'),
      adapter: FolderPath.optional().describe('a PEFT LoRA adapter folder for it (adapter_config.json, adapter_model.safetensors)'),
    })
    .strict(),
} as const satisfies { [M in WorkbenchMethod]: z.ZodType };


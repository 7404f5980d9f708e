import { z } from 'zod';
import type { WorkbenchMethod } from './api';

export const RunId = z
  .string()
  .min(1)
  .max(300)
  .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)?$/, 'a run id is a folder name (optionally group/name) of letters, digits, . _ -')
  .refine((s) => !s.split('/').some((p) => p === '.' || p === '..'), 'a run id may not contain . or .. segments');

/** Argument schemas per method: the single place where untrusted input is checked. */
export const API_ARGS = {
  getBackendInfo: z.undefined(),
  listRuns: z.undefined(),
  getRun: z.object({ id: RunId }).strict(),
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
        })
        .strict()
        .optional(),
    })
    .strict(),
  cancel: z.object({ jobId: z.string().min(1).max(100) }).strict(),
} as const satisfies { [M in WorkbenchMethod]: z.ZodType };


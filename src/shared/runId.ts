import { z } from 'zod';

/** A run's id: its folder relative to the workspace (one level of nesting), never leaving it. */
export const RunId = z
  .string()
  .min(1)
  .max(300)
  .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)?$/, 'a run id is a folder name (optionally group/name) of letters, digits, . _ -')
  .refine((s) => !s.split('/').some((p) => p === '.' || p === '..'), 'a run id may not contain . or .. segments');

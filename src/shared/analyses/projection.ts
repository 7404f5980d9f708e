import { z } from 'zod';
import type { Projection3D } from '../analysis';
import { toCsv } from '../csv';
import { HookSource, Step } from './fields';
import { defineAnalysis, type AnalysisHead } from './spec';

export interface ProjectionAnalysis extends AnalysisHead, Projection3D {
  kind: 'projection';
  source: string;
}

/** One row per point with its raw coordinates and labels (and origin when the run was fine-tuned). */
export function projectionCsv(p: Pick<Projection3D, 'points' | 'labels' | 'origins'>): string {
  const withOrigins = !!p.origins && p.origins.length === p.points.length;
  const withText = p.labels.some((l) => l.text !== undefined);
  const header = ['x', 'y', 'z', 'token', 'group', 'answer', 'prompt', 'position'];
  if (withText) header.push('text');
  if (withOrigins) header.push('origin_x', 'origin_y', 'origin_z');
  const rows = p.points.map((pt, i) => {
    const l = p.labels[i];
    const row: unknown[] = [pt[0], pt[1], pt[2], l.token, l.group, l.answer, l.prompt, l.position];
    if (withText) row.push(l.text);
    if (withOrigins) row.push(...(p.origins as number[][])[i].slice(0, 3));
    return row;
  });
  return toCsv(header, rows);
}

export const projection = defineAnalysis({
  kind: 'projection',
  summary: '3D projection (PCA or UMAP) of the embeddings or of a hook’s activations over the task’s prompts or the texts you give',
  args: z
    .object({
      step: Step,
      source: HookSource.default('embed').describe("'embed' (rows of W_E, the default) or a hook name such as blocks.0.hook_resid_post"),
      method: z.enum(['pca', 'umap']).default('pca').describe('pca (default) or umap'),
      promptsPerSet: z.number().int().min(1).max(500).optional().describe('projection of a hook: prompts per eval split (default 40)'),
      position: z.union([z.number().int().min(0).max(100_000), z.literal('last')]).optional().describe("projection of a hook: the position read, or 'last' (default)"),
      neighbors: z.number().int().min(2).max(200).optional().describe('UMAP n_neighbors (default 15)'),
      minDist: z.number().min(0).max(1).optional().describe('UMAP min_dist (default 0.1)'),
      texts: z
        .array(z.string().min(1).max(4000))
        .min(1)
        .max(5000)
        .optional()
        .describe("project each of these prompts instead of the task's: one point per text, its activation at `source` and `position` (a model folder: text; a run: token names). CLI: --texts-file FILE (JSONL of {\"text\", \"label\"}, or one text per line)"),
      labels: z.array(z.string().max(200)).max(5000).optional().describe('one label per text, the group its point is coloured by (default: all "text")'),
    })
    .strict(),
  tables: {
    points: { description: 'one row per point: coordinates, labels, origin for fine-tuned runs', csv: (p: ProjectionAnalysis) => projectionCsv(p) },
  },
});

import type { z } from 'zod';

/** One table of an analysis's result as CSV (the CLI's `--format csv --table NAME`, the UI's CSV buttons). */
export interface CsvTable<R> {
  description: string;
  csv(result: R): string;
}

/**
 * The shared half of an analysis registry entry: what it is called, what it takes (a zod object whose
 * inferred type is the request type; `kind` and `id` are added by the registry) and how its result
 * reads as CSV. The core half (src/core/analyses/) computes the result. The renderer, the API's
 * validation and the CLI's flags all come from here.
 */
export interface AnalysisSpec<K extends string, S extends z.ZodObject, R> {
  kind: K;
  summary: string;
  args: S;
  /** CSV tables of the result; the first is the default. */
  tables: Record<string, CsvTable<R>>;
}

export function defineAnalysis<K extends string, S extends z.ZodObject, R>(spec: AnalysisSpec<K, S, R>): AnalysisSpec<K, S, R> {
  return spec;
}

/** Common fields of every result: the request's run id and the checkpoint step analysed. */
export interface AnalysisHead {
  /** The run or model folder as the request named it. */
  id: string;
  /** The adapter applied to a model folder, as the request named it. */
  adapter?: string;
  /** The checkpoint step analysed (fine-tuned runs: their final step; model folders: 0). */
  step: number;
}

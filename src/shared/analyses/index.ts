import { z } from 'zod';
import { RunId } from '../runId';
import { attention, type AttentionAnalysis } from './attention';
import { logitLens, type LensAnalysis } from './logitLens';
import { loraDeltas, type LoraDeltasAnalysis } from './loraDeltas';
import { ovSpectrum, type OvSpectrumAnalysis } from './ovSpectrum';
import { patching, type PatchingAnalysis } from './patching';
import { projection, type ProjectionAnalysis } from './projection';
import type { CsvTable } from './spec';

export type { AttentionAnalysis } from './attention';
export type { LensAnalysis } from './logitLens';
export type { LoraDeltasAnalysis, LoraDeltaToken } from './loraDeltas';
export type { OvSpectrumAnalysis } from './ovSpectrum';
export type { PatchingAnalysis } from './patching';
export type { ProjectionAnalysis } from './projection';
export type { AnalysisSpec, CsvTable } from './spec';

/**
 * The analysis registry, shared half: one entry per kind. Adding an analysis is one file here (its
 * arguments, result type and CSV tables), one runner in src/core/analyses/, and its view.
 */
export const ANALYSES = {
  attention,
  'logit-lens': logitLens,
  patching,
  'ov-spectrum': ovSpectrum,
  projection,
  'lora-deltas': loraDeltas,
} as const;

export type AnalysisKind = keyof typeof ANALYSES;
export const ANALYSIS_KINDS = Object.keys(ANALYSES) as AnalysisKind[];

/** Result type per kind. */
export interface AnalysisResults {
  attention: AttentionAnalysis;
  'logit-lens': LensAnalysis;
  patching: PatchingAnalysis;
  'ov-spectrum': OvSpectrumAnalysis;
  projection: ProjectionAnalysis;
  'lora-deltas': LoraDeltasAnalysis;
}
export type AnalysisResult = AnalysisResults[AnalysisKind];

/** Arguments of one kind as a caller writes them (defaults not yet applied) and as a runner gets them. */
export type AnalysisArgs<K extends AnalysisKind> = z.input<(typeof ANALYSES)[K]['args']>;
export type ResolvedAnalysisArgs<K extends AnalysisKind> = z.output<(typeof ANALYSES)[K]['args']>;

/**
 * What every request names besides its kind: `id`, a run or a model folder (its folder relative to the
 * workspace: run.json marks a run, config.json a Hugging Face model), and for a model an optional
 * `adapter`, a PEFT adapter folder (adapter_config.json) in the workspace, applied to it.
 */
type Subject = { id: string; adapter?: string };
type RequestOf<K extends AnalysisKind> = { kind: K } & Subject & AnalysisArgs<K>;
/** An `analyze` request: the kind, the run or model (+ adapter) and that kind's arguments. */
export type AnalysisRequest = { [K in AnalysisKind]: RequestOf<K> }[AnalysisKind];
export type ResolvedAnalysisRequest = { [K in AnalysisKind]: { kind: K } & Subject & ResolvedAnalysisArgs<K> }[AnalysisKind];

const requestSchema = <K extends AnalysisKind>(kind: K) =>
  ANALYSES[kind].args.extend({ kind: z.literal(kind), id: RunId, adapter: RunId.optional().describe('a PEFT adapter folder in the workspace, applied to the model folder `id`') }).strict();

/** The `analyze` method's argument schema, built from the registry (one strict object per kind). */
const requestSchemas = ANALYSIS_KINDS.map(requestSchema);
export const AnalysisRequestSchema = z.discriminatedUnion('kind', requestSchemas as [(typeof requestSchemas)[number], ...typeof requestSchemas]);

/** The CSV tables of a kind, the default (first) one first. */
export function analysisTables<K extends AnalysisKind>(kind: K): [string, CsvTable<AnalysisResults[K]>][] {
  return Object.entries(ANALYSES[kind].tables) as [string, CsvTable<AnalysisResults[K]>][];
}

/** A result as CSV: the named table, or the kind's default table. */
export function analysisCsv(result: AnalysisResult, table?: string): string {
  const tables = analysisTables(result.kind);
  const t = table === undefined ? tables[0] : tables.find(([name]) => name === table);
  if (!t) throw new Error(`${result.kind} has no CSV table '${table}' (tables: ${tables.map(([n]) => n).join(', ')})`);
  return (t[1] as CsvTable<AnalysisResult>).csv(result);
}

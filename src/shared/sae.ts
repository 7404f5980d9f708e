import { z } from 'zod';
import { RunId } from './runId';

/**
 * The SAE part of the workbench API: sparse autoencoders kept in the workspace under
 * `WORKSPACE/saes/<name>/` (SAELens layout: cfg.json + sae_weights.safetensors, with metrics.jsonl and
 * training_summary.json beside), trained as jobs, read as feature reports, and tested by ablating or
 * steering with a feature against a LoRA-vs-steering study (docs/sae.md).
 */

/** The workspace folder that holds the SAEs. */
export const SAES_DIR = 'saes';

/** An SAE's name: one folder name under WORKSPACE/saes (letters, digits, . _ -, not starting with a dot). */
export const SaeName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/, 'an SAE name is one folder name of letters, digits, . _ - (no /), not starting with a dot');

export const StartSaeArgs = z
  .object({
    name: SaeName.describe('the new SAE folder WORKSPACE/saes/<name>'),
    id: RunId.describe('the run whose activations the SAE reads (model folders: oocr sae train --model DIR --data FILE)'),
    hook: z.string().min(1).max(200).describe('TransformerLens hook, e.g. blocks.0.hook_resid_post'),
    architecture: z.enum(['relu', 'topk']),
    expansion: z.number().int().min(1).max(64).optional(),
    k: z.number().int().min(1).max(4096).optional(),
    l1: z.number().positive().max(1000).optional(),
    lr: z.number().positive().max(1).optional(),
    tokens: z.number().int().min(1).max(100_000_000).optional(),
    batchSize: z.number().int().min(1).max(65_536).optional(),
    seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
    evalSamples: z.number().int().min(1).max(2000).optional(),
  })
  .strict();

export const SaeFeaturesArgs = z
  .object({
    name: SaeName,
    /** The run to read features on; default: the run the SAE was trained on. */
    id: RunId.optional(),
    /** A LoRA-vs-steering study (locations): cosines with its vectors and the latent_country label. */
    study: RunId.optional(),
    top: z.number().int().min(1).max(100).optional(),
    examples: z.number().int().min(1).max(32).optional(),
    evalSamples: z.number().int().min(1).max(1000).optional(),
    seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
  })
  .strict();

export const SaeInterventionArgs = z
  .object({
    name: SaeName,
    id: RunId.optional(),
    study: RunId,
    feature: z.number().int().min(0).max(10_000_000),
    /** Steering strength: the base model plus alpha × the feature's unit decoder direction at the hook. */
    alpha: z.number().min(-1000).max(1000),
    /** Held-out questions per set of the study. */
    samples: z.number().int().min(1).max(1000).optional(),
  })
  .strict();

/** One SAE in the list. */
export interface SaeSummary {
  name: string;
  hook?: string;
  /** cfg.json's architecture: 'standard' (ReLU + L1) or 'topk'. */
  architecture?: string;
  dIn?: number;
  dSae?: number;
  k?: number;
  /** The run (workspace id) it was trained on, where recorded. */
  subject?: string;
  status?: string;
  steps?: number;
  l0?: number;
  fve?: number;
  deadFraction?: number;
  lossRecovered?: number;
  /** Set when the folder cannot be read; listed anyway. */
  error?: string;
}

/** One logged training step (metrics.jsonl). */
export interface SaeCurvePoint {
  step: number;
  loss: number;
  mse?: number;
  l0?: number;
  fve?: number;
  dead?: number;
  lr?: number;
}

export interface SaeDensityBin {
  log10From: number;
  log10To: number;
  count: number;
}

export interface SaeDetails extends SaeSummary {
  /** cfg.json as stored. */
  cfg: Record<string, unknown>;
  /** training_summary.json (null for an SAE trained elsewhere). */
  summary: Record<string, unknown> | null;
  curve: SaeCurvePoint[];
  /** Live features by log10 density on the evaluation tokens (empty when not recorded). */
  densityHistogram: SaeDensityBin[];
  /** Features that never fired on the evaluation tokens (not in the histogram). */
  dead?: number;
  nEvalTokens?: number;
}

export interface SaeFeatureRelevance {
  mi: number;
  best: string;
  pFireGivenBest: number;
  pFire: number;
}

export interface SaeFeatureExample {
  tokens: string[];
  position: number;
  activation: number;
  label?: string;
}

export interface SaeFeatureInfo {
  index: number;
  density: number;
  maxActivation: number;
  meanActivation: number;
  relevance: Record<string, SaeFeatureRelevance | undefined>;
  cosines: Record<string, number>;
  topExamples?: SaeFeatureExample[];
  histogram?: { from: number; to: number; count: number }[];
  logitEffects?: { promoted: { token: string; value: number }[]; suppressed: { token: string; value: number }[] };
}

/** A feature report (src/core/sae/saeFeatures.ts featureReport) as plain data. */
export interface SaeFeatureReport {
  hook: string;
  architecture: string;
  dIn: number;
  dSae: number;
  nPrompts: number;
  nTokens: number;
  labelKinds: string[];
  /** Every feature's summary, in index order. */
  features: SaeFeatureInfo[];
  /** Detail (examples, histogram, logit effects) of the top features by density, by MI per label and by |cos| per vector. */
  detailed: SaeFeatureInfo[];
  /** Per label kind: feature indices by MI, highest first (top N). */
  topByRelevance: Record<string, number[] | undefined>;
  /** Per vector: feature indices by |cosine| with it, highest first (top N). */
  topByCosine: Record<string, number[]>;
}

export interface SaeFeaturesResult extends SaeFeatureReport {
  name: string;
  /** The run or model read. */
  subject: string;
  study?: string;
  /** ‖v‖ of each study vector the cosines are taken with. */
  vectorNorms: Record<string, number>;
}

export interface SaeInterventionResult {
  name: string;
  study: string;
  feature: number;
  alpha: number;
  hook: string;
  nHeldOut: number;
  /** The study's chance level on its held-out questions. */
  chance: number;
  /** Held-out accuracy of the base model, and of the base model steered by the study's trained vector. */
  baseAcc: number;
  steeredAcc: number;
  /** The steered model with the SAE spliced in at its hook (what an SAE-level edit starts from). */
  steeredSplicedAcc: number;
  /** The steered model with this feature ablated (its contribution removed, the SAE's error kept). */
  steeredAblatedAcc: number;
  /** The base model plus alpha × the feature's unit decoder direction. */
  featureSteeringAcc: number;
  /** The trained vector minus its component along the feature's direction. */
  vectorWithoutDirectionAcc: number;
  cosineWithTrained: number;
  trainedVectorNorm: number;
  /** Control: the base model plus alpha × random unit directions. */
  randomDirectionAcc: { mean: number; max: number; n: number };
}

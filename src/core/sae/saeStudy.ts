import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import type { SteerSpec } from '../../shared/finetune';
import type { HookName } from '../../shared/hooks';
import { ANALYSES_DIR, readManifest } from '../io/runStore';
import { readSafetensorsFileSync } from '../io/safetensors';
import { readRegularTextSync, READ_LIMITS } from '../io/safeFs';
import type { Intervention } from '../model/forward';
import { steeringIntervention } from '../finetune/steering';
import { createFinetuneTask } from '../tasks/worldFinetune';
import { Rng } from '../util/rng';
import { fromTokenBatch, type PromptBatch } from './promptSource';
import type { Sae } from './saeConfig';
import { disposeSae, liveSae } from './saeModel';
import { editedLoss, type SaeEdit } from './saeSplice';
import type { SaeSubject } from './saeSubject';
import { dot, norm } from '../analysis/linalg';

/**
 * An SAE against a LoRA-vs-steering study of the toy world (src/core/finetune/loraVsSteering.ts): the
 * study's vectors (trained steering vector, LoRA natural vector), its latent city, and its held-out
 * questions about the codename. Feature ablation (zero one feature's contribution, keeping the SAE's
 * error) and feature steering (add α × the unit decoder direction at every position) are measured by
 * held-out accuracy.
 */
export interface StudyContext {
  dir: string;
  hook: string;
  latentCity: number;
  vectors: Record<string, Float32Array>;
  heldOut: PromptBatch[];
  /** The trained steering vector, and how the study's steer run applies it (hook and positions). */
  steer: Float32Array;
  steerSpec: SteerSpec;
}

export function readStudy(dir: string, samples: number, seed = 0): StudyContext {
  const json = path.join(dir, ANALYSES_DIR, 'lora_vs_steering.json');
  const st = path.join(dir, ANALYSES_DIR, 'lora_vs_steering.safetensors');
  if (!fs.existsSync(json)) throw new Error(`${dir}: no ${path.join(ANALYSES_DIR, 'lora_vs_steering.json')} (not a LoRA-vs-steering study folder)`);
  const meta = JSON.parse(readRegularTextSync(json, READ_LIMITS.json)) as { latentCity?: number; hook?: string; kind?: string };
  if (meta.kind !== 'locations' || typeof meta.latentCity !== 'number' || typeof meta.hook !== 'string') throw new Error(`${json}: a locations study with latentCity and hook is needed (kind '${meta.kind}')`);
  const { tensors } = readSafetensorsFileSync(st);
  const vectors: Record<string, Float32Array> = {};
  for (const name of ['trained_sv', 'natural_sv', 'trained_sv_seed2']) if (tensors[name]) vectors[name] = tensors[name].data;
  if (!vectors.trained_sv) throw new Error(`${st}: no tensor "trained_sv"`);
  const steerRun = path.join(dir, 'steer');
  const manifest = readManifest(steerRun);
  const task = createFinetuneTask(manifest.config.taskOptions);
  const steerSpec: SteerSpec = manifest.finetune?.steer ?? { layer: 0, hook: meta.hook as HookName, positions: 'all' };
  const heldOut = task.heldOutSets(new Rng(seed ^ 0x51d), samples).map((s) => ({ ...fromTokenBatch(s), labels: new Array<string>(s.batch).fill(s.name) }));
  return { dir, hook: meta.hook, latentCity: meta.latentCity, vectors, heldOut, steer: vectors.trained_sv, steerSpec };
}

export interface FeatureEffect {
  feature: number;
  /** Held-out accuracy of the steered model with this feature ablated. */
  steeredAblatedAcc: number;
  /** Held-out accuracy of the base model steered by α × the feature's unit decoder direction, per α. */
  featureSteeringAcc: { alpha: number; acc: number }[];
  /** Held-out accuracy with the trained vector minus its component along the feature's direction. */
  vectorWithoutDirectionAcc: number;
  cosineWithTrained: number;
}

export interface StudyEffects {
  hook: string;
  latentCity: number;
  nHeldOut: number;
  baseAcc: number;
  steeredAcc: number;
  /** The steered model with the SAE's reconstruction spliced in at its hook. */
  steeredSplicedAcc: number;
  /** Steered, with all the listed features ablated at once. */
  steeredAllAblatedAcc: number;
  trainedVectorNorm: number;
  features: FeatureEffect[];
  /** Control: the base model steered by α × random unit directions (RANDOM_DIRECTIONS of them, seeded). */
  randomDirectionAcc: { alpha: number; mean: number; max: number }[];
  /** Share of ‖trained_sv‖² in the span of the listed features' decoder directions (least squares R²). */
  trainedShareInSpan: number;
}

export const RANDOM_DIRECTIONS = 8;

/** ‖P v‖² / ‖v‖² for P the projection on the span of `rows` (Gram–Schmidt). */
export function shareInSpan(v: Float32Array, rows: readonly Float32Array[]): number {
  const basis: Float64Array[] = [];
  for (const r of rows) {
    const u = Float64Array.from(r);
    for (const b of basis) {
      const along = dot(u, b);
      for (let j = 0; j < u.length; j++) u[j] -= along * b[j];
    }
    const n = norm(u);
    if (n > 1e-8) basis.push(u.map((x) => x / n));
  }
  const total = dot(v, v);
  const inSpan = basis.reduce((a, b) => a + dot(b, v) ** 2, 0);
  return total > 0 ? inSpan / total : 0;
}

export function studyEffects(subject: SaeSubject, sae: Sae, study: StudyContext, features: readonly number[], alphas: readonly number[]): StudyEffects {
  const d = study.steer.length;
  const steerNorm = norm(study.steer);
  const live = liveSae(sae.weights);
  const keep: tf.Tensor[] = [];
  // Every vector enters as the study's own steering does (src/core/finetune/steering.ts).
  const vec = (v: Float32Array): Intervention => {
    const t = tf.tensor1d(v);
    keep.push(t);
    return steeringIntervention(subject.config, study.steerSpec, t);
  };
  const acc = (edit: SaeEdit | null, before: Intervention[]): number => editedLoss(subject, live, sae, study.heldOut, edit, before).acc;
  try {
    const steer = vec(study.steer);
    const unit = (i: number): Float32Array => {
      const row = sae.weights.W_dec.data.subarray(i * d, (i + 1) * d);
      const n = norm(row) || 1;
      return Float32Array.from(row, (x) => x / n);
    };
    const out: FeatureEffect[] = features.map((i) => {
      const u = unit(i);
      const along = dot(u, study.steer);
      const without = Float32Array.from(study.steer, (x, j) => x - along * u[j]);
      return {
        feature: i,
        steeredAblatedAcc: acc({ kind: 'ablate', features: [i] }, [steer]),
        featureSteeringAcc: alphas.map((alpha) => ({ alpha, acc: acc(null, [vec(Float32Array.from(u, (x) => x * alpha))]) })),
        vectorWithoutDirectionAcc: acc(null, [vec(without)]),
        cosineWithTrained: along / (steerNorm || 1),
      };
    });
    return {
      hook: study.hook,
      latentCity: study.latentCity,
      nHeldOut: study.heldOut.reduce((a, b) => a + b.B, 0),
      baseAcc: acc(null, []),
      steeredAcc: acc(null, [steer]),
      steeredSplicedAcc: acc({ kind: 'splice' }, [steer]),
      steeredAllAblatedAcc: features.length ? acc({ kind: 'ablate', features }, [steer]) : NaN,
      trainedVectorNorm: steerNorm,
      features: out,
      randomDirectionAcc: alphas.map((alpha) => {
        const rng = new Rng(0x7a4d);
        const accs = Array.from({ length: RANDOM_DIRECTIONS }, () => {
          const r = Float32Array.from({ length: d }, () => rng.normal());
          const n = norm(r);
          return acc(null, [vec(r.map((x) => (x / n) * alpha))]);
        });
        return { alpha, mean: accs.reduce((a, b) => a + b, 0) / accs.length, max: Math.max(...accs) };
      }),
      trainedShareInSpan: shareInSpan(study.steer, features.map(unit)),
    };
  } finally {
    disposeSae(live);
    for (const t of keep) t.dispose();
  }
}

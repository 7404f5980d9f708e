import type { LoraVsSteeringAnalysis, LoraVsSteeringReport } from '../../shared/analysis';
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import type { BackendInfo } from '../../shared/backend';
import type { LoraSpec, SteerSpec } from '../../shared/finetune';
import { hookName } from '../../shared/hooks';
import type { Metrics } from '../../shared/modelConfig';
import type { JobEvent } from '../../shared/progress';
import { activationDeltas, concatRows, cosBlockMeans, deltaCosTrained, layerSweep, pickRows, seedsRecord, stratifiedSample, summariseDeltas } from '../analysis/loraVsSteering';
import { cosine, pairwiseAbsCos, singularValues } from '../analysis/linalg';
import { writeFileAtomicSync } from '../io/atomicWrite';
import { ANALYSES_DIR } from '../io/runStore';
import { writeSafetensorsFileSync } from '../io/safetensors';
import { liveParams } from '../model/params';
import { World } from '../tasks/world';
import { Rng } from '../util/rng';
import { loraDeltaMatrix } from './lora';
import { buildAdaptation, DEFAULT_LORA, finetuneMetrics, finetuneTaskFor, loadBase, loadFinetuned, runFinetune, type FinetuneRequest, type FinetuneResult } from './runFinetune';
import { steeringIntervention } from './steering';

export interface LoraVsSteeringOptions {
  base: string;
  kind: 'locations' | 'backdoor';
  seed: number;
  /** locations: the codename's secret city (default: derived from the seed). */
  latentCity?: number;
  outDir: string;
  backend: BackendInfo;
  lora?: LoraSpec;
  /** Layer whose resid_post carries the deltas and the steering vectors (default: the LoRA's last layer). */
  layer?: number;
  loraSteps?: number;
  steerSteps?: number;
  loraLr?: number;
  steerLr?: number;
  batchSize?: number;
  evalSamples?: number;
  /** Prompts per set (training-like and unrelated) for the delta analysis. */
  deltaPrompts?: number;
  onEvent?: (stage: string, e: JobEvent) => void;
  /** Polled during each fine-tune; a cancelled stage ends the study as 'cancelled'. */
  shouldCancel?: () => boolean;
}

/** A study as plain data (what a job request carries); the backend and callbacks come from where it runs. */
export type StudyOptions = Omit<LoraVsSteeringOptions, 'backend' | 'onEvent' | 'shouldCancel'>;

/** How a study ended: with its analysis, or cancelled during a stage (the runs before it are kept). */
export type StudyOutcome =
  | { status: 'completed'; runDir: string; analysis: LoraVsSteeringAnalysis }
  | { status: 'cancelled'; runDir: string; stage: string };

export type { LoraVsSteeringAnalysis, LoraVsSteeringReport } from '../../shared/analysis';

/**
 * The codename's secret city for a seed: a city of the last country. Chosen, not drawn: on the shipped
 * base model an untrained codename already "is" in country 2 (held-out accuracy 1 before fine-tuning),
 * and the 30-city sweep in the README shows the country decides whether fine-tuning generalises; the
 * last country is one where the base is at 0 and both methods generalise. `--latent-city` picks any.
 */
export function latentCityForSeed(world: World, seed: number): number {
  const per = world.options.citiesPerCountry;
  return (world.options.nCountries - 1) * per + (seed % per);
}

/** The study without a way to cancel it (tests, scripts): its analysis. */
export async function loraVsSteering(o: Omit<LoraVsSteeringOptions, 'shouldCancel'>): Promise<LoraVsSteeringAnalysis> {
  const r = await runLoraVsSteering(o);
  if (r.status !== 'completed') throw new Error(`study cancelled during ${r.stage}`);
  return r.analysis;
}

/**
 * arXiv 2507.08218 on a toy: fine-tune the same OOCR task with LoRA and with a steering vector trained
 * from scratch, then compare the LoRA's per-token deltas, their first principal component (the
 * "natural" steering vector), and the trained vector. Writes three fine-tune runs and an analysis.
 * A cancel stops the current fine-tune (saving its weights) and ends the study 'cancelled'.
 */
export async function runLoraVsSteering(o: LoraVsSteeringOptions): Promise<StudyOutcome> {
  const outDir = path.resolve(o.outDir);
  if (fs.existsSync(path.join(outDir, 'analyses', 'lora_vs_steering.json'))) throw new Error(`${outDir} already holds a lora-vs-steering analysis; choose another --out`);
  const base = loadBase(o.base);
  const world = new World(finetuneTaskFor(base, { kind: 'locations' }).world.options);
  const latentCity = o.kind === 'locations' ? (o.latentCity ?? latentCityForSeed(world, o.seed)) : null;
  const taskRaw = { kind: o.kind, codename: 0, latentCity: latentCity ?? 0 };
  const task = finetuneTaskFor(base, taskRaw);
  const config = base.checkpoint.config;
  const lora = o.lora ?? DEFAULT_LORA;
  const layer = o.layer ?? Math.max(...lora.layers);
  const hook = hookName('hook_resid_post', layer);
  const steer: SteerSpec = { layer, hook, positions: 'all' };
  const common = { base: base.checkpoint.file, task: taskRaw, batchSize: o.batchSize ?? 64, weightDecay: 0, logEvery: 50, evalSamples: o.evalSamples ?? 100, backend: o.backend };
  const shouldCancel = o.shouldCancel;
  const stage = (name: string, run: Omit<FinetuneRequest, keyof typeof common | 'onEvent' | 'shouldCancel'>): Promise<FinetuneResult> =>
    runFinetune({ ...common, ...run, onEvent: (e) => o.onEvent?.(name, e), shouldCancel });

  const loraRun = await stage('lora', { method: 'lora', lora, steps: o.loraSteps ?? 300, lr: o.loraLr ?? 3e-3, seed: o.seed, outDir: path.join(outDir, 'lora') });
  if (loraRun.status === 'cancelled') return { status: 'cancelled', runDir: outDir, stage: 'lora' };
  // One unconditional vector needs longer to find the backdoor's trigger-dependent solution (at 300
  // steps it sits at the 50/50 compromise, loss ≈ ln 2).
  const steerSteps = o.steerSteps ?? (o.kind === 'backdoor' ? 1500 : 300);
  const steerLr = o.steerLr ?? (o.kind === 'backdoor' ? 5e-2 : 3e-2);
  const steerRun = await stage('steer', { method: 'steer', steer, steps: steerSteps, lr: steerLr, seed: o.seed, outDir: path.join(outDir, 'steer') });
  if (steerRun.status === 'cancelled') return { status: 'cancelled', runDir: outDir, stage: 'steer' };
  const steerRun2 = await stage('steer (second seed)', { method: 'steer', steer, steps: steerSteps, lr: steerLr, seed: o.seed + 1000, outDir: path.join(outDir, 'steer-seed2') });
  if (steerRun2.status === 'cancelled') return { status: 'cancelled', runDir: outDir, stage: 'steer (second seed)' };

  const loraTrained = loadFinetuned(loraRun.runDir).trained;
  const trainedSv = Array.from(loadFinetuned(steerRun.runDir).trained.steering_vector.data);
  const trainedSv2 = Array.from(loadFinetuned(steerRun2.runDir).trained.steering_vector.data);

  const baseA = buildAdaptation(config, base.checkpoint.params, 'lora', { lora, seed: 0, trained: loraTrained });
  try {
    const baseParams = liveParams(base.checkpoint.params);
    const rng = new Rng(o.seed).fork(7);
    const nPrompts = o.deltaPrompts ?? 64;
    const trainBatch = task.trainPrompts(rng, nPrompts);
    // Unrelated text: pretraining questions about real cities, no codename, no trigger.
    const unrelated = world.encode(
      rng,
      Array.from({ length: nPrompts }, (_, i) => world.question(rng, i % world.nCities, (['country', 'language', 'size', 'dist'] as const)[i % 4])),
    );
    // Deltas at every layer's resid_post (the layer sweep); the study's hook is one of them.
    const perLayer = Array.from({ length: config.nLayers }, (_, l) => {
      const h = hookName('hook_resid_post', l);
      return { train: activationDeltas(config, baseParams, baseA.params(), trainBatch, h), unrelated: activationDeltas(config, baseParams, baseA.params(), unrelated, h) };
    });
    const trainDeltas = perLayer[layer].train;
    const unrelatedDeltas = perLayer[layer].unrelated;
    const all = concatRows(trainDeltas, unrelatedDeltas);
    const summary = { train: summariseDeltas(trainDeltas), unrelated: summariseDeltas(unrelatedDeltas), all: summariseDeltas(all) };
    const natural = summary.all.naturalVector;

    // The study's own evaluation draw, the same questions for every method (not the runs' final evaluation).
    const evalRng = (): Rng => new Rng(o.seed).fork(11);
    const samples = 4 * (o.evalSamples ?? 100);
    const evaluation = (() => {
      // The sets finetuneMetrics draws (held-out, then side effects, from one generator): their sizes.
      const r = evalRng();
      const sizes = (sets: { name: string; batch: number }[]) => sets.map((x) => ({ name: x.name, n: x.batch }));
      return { seed: o.seed, heldout_sets: sizes(task.heldOutSets(r, samples)), side_effect_sets: sizes(task.sideEffectSets(r, samples)) };
    })();
    const total = (sets: { n: number }[]): number => sets.reduce((a, x) => a + x.n, 0);
    const nHeld = total(evaluation.heldout_sets);
    const nSide = total(evaluation.side_effect_sets);
    const withVector = (v: number[]): Metrics =>
      tf.tidy(() => finetuneMetrics(task, config, baseParams, [steeringIntervention(config, steer, tf.tensor1d(v))], evalRng(), samples));
    const metrics = {
      base: tf.tidy(() => finetuneMetrics(task, config, baseParams, [], evalRng(), samples)),
      lora: tf.tidy(() => finetuneMetrics(task, config, baseA.params(), [], evalRng(), samples)),
      natural_sv: withVector(natural),
      trained_sv: withVector(trainedSv),
      trained_sv_seed2: withVector(trainedSv2),
    };
    Object.values(baseParams).forEach((t) => t.dispose());

    // Display sample of the |cos| matrix: spread over positions, the read-out (last position, where
    // the answer is read) included, as in the real-model study. Every sequence has T tokens.
    const half = 24;
    const T = world.options.seqLen;
    const positionsOf = (n: number): number[] => Array.from({ length: n }, (_, i) => i % T);
    const tokenLabels = (prefix: string, b: { tokens: Int32Array }): string[] => Array.from(b.tokens, (tok, i) => `${prefix}:${world.vocab[tok]}@${i % T}`);
    const trainPos = positionsOf(trainDeltas.n);
    const unrelPos = positionsOf(unrelatedDeltas.n);
    const tIdx = stratifiedSample(trainPos, trainPos.map((p) => p === T - 1), half);
    const uIdx = stratifiedSample(unrelPos, unrelPos.map((p) => p === T - 1), half);
    const trainLabels = tokenLabels('train', trainBatch);
    const unrelLabels = tokenLabels('unrelated', unrelated);
    const labels = [...tIdx.map((i) => trainLabels[i]), ...uIdx.map((i) => unrelLabels[i])];
    const samplePositions = [...tIdx.map((i) => trainPos[i]), ...uIdx.map((i) => unrelPos[i])];
    const cosMatrix = pairwiseAbsCos(concatRows(pickRows(trainDeltas, tIdx), pickRows(unrelatedDeltas, uIdx))).matrix.map((r) => r.map((x) => Number(x.toFixed(4))));

    const spectra = lora.layers.flatMap((l) =>
      lora.targets.map((t) => {
        const weight = `blocks.${l}.${t}`;
        const m = loraDeltaMatrix(loraTrained, lora, weight);
        return { weight, values: singularValues(m.rows, m.cols, m.data).slice(0, Math.max(lora.rank * 2, 8)) };
      }),
    );

    const analysis: LoraVsSteeringAnalysis = {
      acc: { base: metrics.base.heldout_acc, lora: metrics.lora.heldout_acc, natural_sv: metrics.natural_sv.heldout_acc, trained_sv: metrics.trained_sv.heldout_acc },
      side_effect_acc: {
        base: metrics.base.side_effect_acc,
        lora: metrics.lora.side_effect_acc,
        natural_sv: metrics.natural_sv.side_effect_acc,
        trained_sv: metrics.trained_sv.side_effect_acc,
      },
      lora_delta: { mean_abs_cos: summary.all.meanAbsCos, pc1_var_ratio: summary.all.pc1VarRatio },
      cos_trained_vs_natural: cosine(trainedSv, natural),
      cos_trained_across_seeds: cosine(trainedSv, trainedSv2),
      run: outDir,
      kind: o.kind,
      seed: o.seed,
      latentCity,
      hook,
      chance: task.chance,
      lora,
      deltas: summary,
      cos_matrix: { labels, values: cosMatrix, positions: samplePositions, readout: samplePositions.map((p) => p === T - 1) },
      // The caption's statistics: over every token delta, not the sample.
      cos_block_means: cosBlockMeans(trainDeltas, unrelatedDeltas),
      delta_w_singular_values: spectra,
      metrics,
      runs: { lora: loraRun.runDir, steer: steerRun.runDir, steer_seed2: steerRun2.runDir },
      norms: { natural_sv: Math.hypot(...natural), trained_sv: Math.hypot(...trainedSv), trained_sv_seed2: Math.hypot(...trainedSv2) },
      delta_cos_trained: deltaCosTrained({ rows: trainDeltas, index: tIdx, labels: trainLabels }, { rows: unrelatedDeltas, index: uIdx, labels: unrelLabels }, trainedSv),
      layer_sweep: layerSweep(
        perLayer.map((x) => x.train),
        perLayer.map((x) => x.unrelated),
        { layer, natural, trained: trainedSv },
      ),
      seeds: seedsRecord([
        { seed: o.seed, acc: metrics.trained_sv.heldout_acc, side_effect_acc: metrics.trained_sv.side_effect_acc, vector: trainedSv, n: nHeld, side_effect_n: nSide },
        { seed: o.seed + 1000, acc: metrics.trained_sv_seed2.heldout_acc, side_effect_acc: metrics.trained_sv_seed2.side_effect_acc, vector: trainedSv2, n: nHeld, side_effect_n: nSide },
      ]),
      eval_n: {
        acc: { base: nHeld, lora: nHeld, natural_sv: nHeld, trained_sv: nHeld, trained_sv_seed2: nHeld },
        side_effect_acc: { base: nSide, lora: nSide, natural_sv: nSide, trained_sv: nSide, trained_sv_seed2: nSide },
      },
      evaluation,
    };
    const dir = path.join(outDir, ANALYSES_DIR);
    const rel = (p: string): string => path.relative(outDir, p).split(path.sep).join('/');
    fs.mkdirSync(dir, { recursive: true });
    writeSafetensorsFileSync(
      path.join(dir, 'lora_vs_steering.safetensors'),
      {
        deltas: { shape: [all.n, all.d], data: all.data },
        natural_sv: { shape: [natural.length], data: Float32Array.from(natural) },
        trained_sv: { shape: [trainedSv.length], data: Float32Array.from(trainedSv) },
        trained_sv_seed2: { shape: [trainedSv2.length], data: Float32Array.from(trainedSv2) },
      },
      { hook, n_train_tokens: String(trainDeltas.n), n_unrelated_tokens: String(unrelatedDeltas.n) },
    );
    // On disk the record names its folders relative to the study, so a workspace can be moved or shipped.
    const onDisk: LoraVsSteeringAnalysis = { ...analysis, run: '.', runs: { lora: rel(loraRun.runDir), steer: rel(steerRun.runDir), steer_seed2: rel(steerRun2.runDir) } };
    writeFileAtomicSync(path.join(dir, 'lora_vs_steering.json'), `${JSON.stringify(onDisk, null, 2)}\n`);
    return { status: 'completed', runDir: outDir, analysis };
  } finally {
    baseA.dispose();
  }
}

export function reportOf(a: LoraVsSteeringAnalysis): LoraVsSteeringReport {
  return {
    acc: a.acc,
    side_effect_acc: a.side_effect_acc,
    lora_delta: a.lora_delta,
    cos_trained_vs_natural: a.cos_trained_vs_natural,
    cos_trained_across_seeds: a.cos_trained_across_seeds,
    run: a.run,
  };
}

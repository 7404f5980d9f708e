import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import type { FinetuneInfo } from '../../shared/finetune';
import type { Metrics, RunManifest, TrainConfig } from '../../shared/modelConfig';
import type { JobEvent } from '../../shared/progress';
import { acquireRunLock, readRunLock, hasLiveOwner, RunLockedError, type RunLock } from '../io/runLock';
import { appendMetrics, isRunFolder, listCheckpoints, readManifest, RUN_FILE, truncateMetrics, writeManifest } from '../io/runStore';
import { assertNewRunFolder, createRunFolder } from '../io/runFolderGuard';
import { JobError } from '../jobs/jobError';
import type { Intervention, Params } from '../model/forward';
import type { HostTensor } from '../model/params';
import type { TokenBatch } from '../tasks/taskTypes';
import { Rng } from '../util/rng';
import { AdamW } from './adamw';
import { batchTensors, lastTokenLoss } from './evaluate';
import { listOptimizerStates, optimizerStatePath, readTrainingState, writeTrainingState, type TrainingState } from './optimizerState';

/** What a run trains: the variables the optimizer steps, and how they enter the forward pass. */
export interface Trainee {
  variables: tf.Variable[];
  params(): Params;
  interventions(): Intervention[];
  /** Host copies of the trained tensors, as saved. */
  export(): Record<string, HostTensor>;
  dispose(): void;
}

/** Weights written by a run: a model checkpoint (listed in run.json's `checkpoints`) or another file. */
export interface SavedWeights {
  file: string;
  checkpoint: boolean;
}

export interface TrainingLoopSpec<T extends Trainee = Trainee, B = TokenBatch> {
  /** The run folder to create; it must not hold a run yet (with `resume`: the run to continue). */
  outDir: string;
  /** Steps, batch size, optimizer, seed, log and checkpoint cadence; stored as run.json's `config`. */
  config: TrainConfig;
  preset: string | null;
  backend: string;
  /** Added to the tfjs and Node versions in run.json. */
  versions?: Record<string, string>;
  finetune?: FinetuneInfo;
  /** Names the job in messages: 'training', 'fine-tuning'. */
  noun: string;
  /** Said after the last good checkpoint when a run fails (e.g. that a base model is unchanged). */
  alsoPreserved?: string;
  /** Builds what is trained; called once the folder is known to be free, before anything is written. */
  build(): T;
  sampleTrainBatch(rng: Rng, batchSize: number): B;
  /** The mean loss of a batch. Default: cross-entropy at the last position of a TokenBatch. */
  loss?(t: T, batch: B): tf.Scalar;
  /**
   * Splits a batch into micro-batches whose gradients are accumulated (weights: each part's share of
   * the batch's loss), so a big model's activations are held for one part at a time. Default: one part.
   */
  microBatches?(batch: B): { batch: B; weight: number }[];
  /**
   * Draws the fixed held-out sequences of the logged curve from the run's root stream (after the data
   * stream, fork 1) and returns the evaluation run at each log step. It, `save` and `finish` may
   * return promises: a spec that reads tensors asynchronously can train on the webgpu backend.
   */
  curve(root: Rng): (t: T) => Metrics | Promise<Metrics>;
  /** Writes the weights at `step` (periodic checkpoints and the final save). */
  save(t: T, runDir: string, step: number): SavedWeights | Promise<SavedWeights>;
  /** Final numbers after the last save (fresh sequences from `root`), and any run.json fields to add. */
  finish(t: T, root: Rng, saved: SavedWeights): FinishResult | Promise<FinishResult>;
  onEvent?: (e: JobEvent) => void;
  /** Polled between steps; true stops the run after the current step, saving its weights. */
  shouldCancel?: () => boolean;
  /**
   * Loads the model checkpoint saved at `step` into a freshly built trainee. A spec that has it saves the
   * optimizer and data-stream state beside every checkpoint while the run is resumable, and can resume.
   */
  restore?(t: T, runDir: string, step: number): void;
  /**
   * Continue the run already in `outDir` (cancelled, failed, or interrupted: marked running but its job
   * gone) from its latest checkpoint with optimizer state, to `config.steps`, bit for bit as if it had
   * never stopped; a run with no checkpoint yet starts again from step 0. `config` must equal run.json's.
   * A completed run, or one whose job still runs, is refused.
   */
  resume?: boolean;
  /**
   * A fused step instead of tfjs's variableGrads + AdamW (src/core/fused: the factorization presets):
   * built once the trainee and the optimizer hold their starting state (a resumed run's included). While
   * steps run it owns the weights and moments; the loop calls `sync()` to write them back into the
   * trainee's variables and the AdamW before anything reads those (the curve, saves, the final numbers),
   * so run files, optimizer state and resume are those of the tfjs path. Ignored with `loss` or
   * `microBatches`.
   */
  fused?(t: T, optimizer: AdamW): FusedStepper<B>;
}

/** What `TrainingLoopSpec.finish` returns. */
export interface FinishResult {
  finalMetrics: Metrics;
  manifest?: Partial<RunManifest>;
}

/** One whole training step outside tfjs (see TrainingLoopSpec.fused). */
export interface FusedStepper<B = TokenBatch> {
  /** Steps on the batch's mean loss and returns it; a non-finite loss leaves the weights as they were. */
  step(batch: B): number;
  /** Writes the current weights and optimizer state into the trainee's variables and the AdamW. */
  sync(): void;
}

export interface TrainingLoopResult {
  runDir: string;
  status: 'completed' | 'cancelled';
  steps: number;
  seconds: number;
  finalMetrics: Metrics;
  weightsFile: string;
}

/**
 * The loop every training job runs: run.json and metrics.jsonl as DESIGN.md §6, AdamW on the
 * trainee's variables, a curve on fixed sequences, periodic checkpoints, progress events. Cancelling
 * saves the current weights and ends 'cancelled'; a non-finite loss stops the run before its step is
 * applied. Once the run has started, a failure marks run.json 'failed' and rejects with a JobError that
 * names the last good checkpoint (and whatever else is preserved). The job holds `RUN/.lock` from
 * before it writes anything until it ends, so a second start of the folder is refused naming its pid.
 * With `spec.resume` it continues a stopped run instead (see `TrainingLoopSpec.resume`).
 *
 * The loop reads tensors only asynchronously (the loss, the optimizer state it saves), so a spec whose
 * own callbacks do too trains on any backend, webgpu included (which cannot read synchronously in Node).
 */
export async function runTrainingLoop<T extends Trainee, B = TokenBatch>(spec: TrainingLoopSpec<T, B>): Promise<TrainingLoopResult> {
  const runDir = path.resolve(spec.outDir);
  if (spec.resume) return trainOwned(spec, runDir, prepareResume(spec, runDir));
  // While another job trains into this folder, say whose it is (rather than only that a run exists).
  refuseIfOwned(runDir);
  // A new or empty folder only (not '', not among other files, not inside a run, creatable), before anything is written.
  assertNewRunFolder(spec.outDir);
  // The folder is ours from here to the end: a second start (another process, or a racing call in this
  // one) is refused by the lock, naming its owner, and writes nothing.
  const createdDir = !fs.existsSync(runDir);
  const lock = acquireRunLock(runDir);
  if (fs.existsSync(path.join(runDir, RUN_FILE))) {
    // A start that held the lock before us finished meanwhile.
    lock.release();
    throw new Error(`${runDir} already holds a run (run.json exists); choose another --out`);
  }
  return trainOwned(spec, runDir, { lock, createdDir, resume: null });
}

/** Throws a RunLockedError naming the owner when a live job holds `runDir`; writes nothing. */
function refuseIfOwned(runDir: string): void {
  if (hasLiveOwner(runDir)) throw new RunLockedError(runDir, readRunLock(runDir));
}

/** Where a resumed run continues: the checkpoint and optimizer state of `step`, or step 0 when it has none. */
interface ResumePoint {
  manifest: RunManifest;
  step: number;
  checkpoint: string | null;
  state: TrainingState | null;
}

interface Ownership {
  lock: RunLock;
  /** This start made the folder: removed again (if still empty) when the run fails before writing anything. */
  createdDir: boolean;
  resume: ResumePoint | null;
}

/** Dotted paths where two configs differ (`optimizer.lr`, `steps`, `model.ovRank`). */
export function configDifferences(a: unknown, b: unknown, prefix = ''): string[] {
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => configDifferences(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix || '(config)'];
}

/** Why a run cannot be resumed, for a completed one. */
function completedMessage(runDir: string, m: RunManifest): string {
  return `${runDir} is completed (step ${m.step} of ${m.config.steps}); there is nothing to resume`;
}

/** Names for a trainee's variables in the optimizer-state file: the parameter names before any `#suffix`. */
function variableNames(vars: readonly tf.Variable[]): string[] {
  const names = vars.map((v) => v.name.replace(/#[^#]*$/, ''));
  return names.every((n) => n !== '') && new Set(names).size === names.length ? names : vars.map((_, i) => `var${i}`);
}

/**
 * Checks that the run in `runDir` can be resumed, takes its lock (over a stale one) and finds where it
 * continues: the latest step with both a model checkpoint and its optimizer state.
 */
function prepareResume<T extends Trainee, B>(spec: TrainingLoopSpec<T, B>, runDir: string): Ownership {
  if (!spec.restore) throw new Error(`resuming ${spec.noun} runs is not supported yet; start a new run instead`);
  if (!isRunFolder(runDir)) throw new Error(`${runDir}: no run to resume (no ${RUN_FILE})`);
  const before = readManifest(runDir);
  if (before.status === 'completed') throw new Error(completedMessage(runDir, before));
  const lock = acquireRunLock(runDir);
  try {
    // Read again under the lock: the run may have moved on before we held it.
    const manifest = readManifest(runDir);
    if (manifest.status === 'completed') throw new Error(completedMessage(runDir, manifest));
    if (Boolean(manifest.finetune) !== Boolean(spec.finetune)) {
      throw new Error(manifest.finetune ? `${runDir} is a fine-tune run (${manifest.finetune.method}); resuming fine-tunes is not supported yet` : `${runDir} is not a fine-tune run`);
    }
    const differ = configDifferences(manifest.config, spec.config);
    if (differ.length) throw new Error(`${runDir}: cannot resume with a different config (${differ.join(', ')} differ from run.json); a resumed run continues its own config`);
    const states = new Map(listOptimizerStates(runDir).map((o) => [o.step, o.file]));
    const checkpoints = listCheckpoints(runDir);
    const paired = checkpoints.filter((c) => states.has(c.step) && c.step <= manifest.config.steps);
    const latest = paired[paired.length - 1];
    if (!latest) {
      if (checkpoints.length) {
        throw new Error(
          `${runDir}: its checkpoints have no optimizer state beside them (saved by an older version, or killed while saving), so it cannot continue bit for bit; start a new run instead`,
        );
      }
      return { lock, createdDir: false, resume: { manifest, step: 0, checkpoint: null, state: null } };
    }
    const stateFile = states.get(latest.step) as string;
    const state = readTrainingState(stateFile);
    if (state.step !== latest.step) throw new Error(`${stateFile}: holds the state of step ${state.step}, not ${latest.step}`);
    if (!state.rngs.data) throw new Error(`${stateFile}: no state of the data stream ('data' in rngs)`);
    return { lock, createdDir: false, resume: { manifest, step: latest.step, checkpoint: latest.file, state } };
  } catch (err) {
    lock.release();
    throw err;
  }
}

/**
 * Removes what a run wrote after its resume point (written again as the run continues) and every
 * optimizer state but the one it resumes from.
 */
function rewindFolder(runDir: string, point: ResumePoint): void {
  for (const c of listCheckpoints(runDir)) if (c.step > point.step) fs.rmSync(c.file, { force: true });
  for (const o of listOptimizerStates(runDir)) if (!point.state || o.step !== point.step) fs.rmSync(o.file, { force: true });
  truncateMetrics(runDir, point.step);
}

/** The loop proper, in a folder this job owns (its lock held): released whatever the outcome. */
async function trainOwned<T extends Trainee, B>(spec: TrainingLoopSpec<T, B>, runDir: string, own: Ownership): Promise<TrainingLoopResult> {
  const { config } = spec;
  const { resume } = own;
  let wrote = false;
  const lossOf =
    spec.loss ??
    ((t: T, b: B): tf.Scalar => {
      const { tokens, targets } = batchTensors(b as unknown as TokenBatch);
      return lastTokenLoss(config.model, t.params(), tokens, targets, t.interventions());
    });
  let trainee: T | null = null;
  let optimizer: AdamW | null = null;
  try {
    trainee = spec.build();
    optimizer = new AdamW(trainee.variables, config.optimizer);
    const names = variableNames(trainee.variables);
    if (resume?.state) {
      const { state } = resume;
      (spec.restore as NonNullable<typeof spec.restore>)(trainee, runDir, resume.step);
      if (configDifferences(state.names, names).length) {
        throw new Error(`${optimizerStatePath(runDir, resume.step)}: holds the state of tensors ${state.names.join(', ')} but this run trains ${names.join(', ')}`);
      }
      optimizer.restoreState(state.optimizer);
    }
    const versions = { tfjs: tf.version.tfjs, node: process.versions.node, ...(spec.versions ?? {}) };
    wrote = true;
    createRunFolder(runDir, 'checkpoints');
    const now = new Date().toISOString();
    let manifest: RunManifest;
    if (resume) {
      rewindFolder(runDir, resume);
      const { error: _error, finalMetrics: _final, ...kept } = resume.manifest;
      void _error;
      void _final;
      const saved = new Set(listCheckpoints(runDir).map((c) => c.step));
      manifest = {
        ...kept,
        updatedAt: now,
        status: 'running',
        backend: spec.backend,
        versions,
        step: resume.step,
        seconds: resume.state?.seconds ?? 0,
        checkpoints: kept.checkpoints.filter((c) => c.step <= resume.step && saved.has(c.step)),
      };
    } else {
      manifest = {
        format: 'oocr-run/1',
        id: path.basename(runDir),
        preset: spec.preset,
        createdAt: now,
        updatedAt: now,
        status: 'running',
        config,
        backend: spec.backend,
        versions,
        step: 0,
        seconds: 0,
        checkpoints: [],
        ...(spec.finetune ? { finetune: spec.finetune } : {}),
      };
    }
    writeManifest(runDir, manifest);
    const emit = spec.onEvent ?? (() => {});
    const update = (patch: Partial<RunManifest>): void => {
      Object.assign(manifest, patch, { updatedAt: new Date().toISOString() });
      writeManifest(runDir, manifest);
    };

    // The same forks in the same order on a resumed run: the curve's fixed sequences and the final
    // numbers' fresh ones are those of the uninterrupted run; the data stream continues from its state.
    const root = new Rng(config.seed);
    const dataRng = root.fork(1);
    if (resume?.state) dataRng.restore(resume.state.rngs.data);
    // Fixed held-out sequences for the curve, so points along a run are comparable.
    const evaluate = spec.curve(root);
    const t0 = performance.now() - (resume?.state?.seconds ?? 0) * 1000;
    const seconds = (): number => (performance.now() - t0) / 1000;
    let lastGood: string | null = resume?.checkpoint ?? null;
    let lastEmit = 0;
    const live = trainee;
    const adam = optimizer;
    if (resume) emit({ kind: 'log', message: resume.checkpoint ? `resuming from step ${resume.step} (${path.relative(runDir, resume.checkpoint)})` : 'resuming from step 0 (no checkpoint had been saved)' });

    const fused = spec.fused && !spec.loss && !spec.microBatches ? spec.fused(live, adam) : null;
    let unsynced = false;
    /** The fused step's weights and moments into the trainee and the AdamW, before anything reads them. */
    const sync = (): void => {
      if (fused && unsynced) fused.sync();
      unsynced = false;
    };

    /** Saves the weights; with `resumable`, the optimizer and data-stream state beside a checkpoint too. */
    const saveAt = async (step: number, resumable: boolean): Promise<SavedWeights> => {
      sync();
      const saved = await spec.save(live, runDir, step);
      if (saved.checkpoint) {
        if (resumable && spec.restore) {
          const optimizerState = await adam.readState();
          writeTrainingState(optimizerStatePath(runDir, step), { step, seconds: seconds(), names, optimizer: optimizerState, rngs: { data: dataRng.state() } });
          // Only the latest state is needed to resume; older ones go once the new one is complete.
          for (const o of listOptimizerStates(runDir)) if (o.step < step) fs.rmSync(o.file, { force: true });
        }
        lastGood = saved.file;
        manifest.checkpoints = [...manifest.checkpoints.filter((c) => c.step !== step), { step, file: path.relative(runDir, saved.file) }];
        emit({ kind: 'checkpoint', step, file: saved.file });
      }
      return saved;
    };
    /**
     * One step of tfjs's variableGrads + AdamW: the gradients (summed over micro-batches) and each part's
     * loss leave the tidy as tensors, the losses are read asynchronously (no await inside a tidy), and
     * the step is applied only on a finite loss (the weights stay those of the last good step).
     */
    const tfjsStep = async (batch: B): Promise<number> => {
      const { values, summed, stepped } = tf.tidy(() => {
        const parts = spec.microBatches?.(batch) ?? [{ batch, weight: 1 }];
        const values: tf.Scalar[] = [];
        let summed: tf.Tensor[] | null = null;
        for (const part of parts) {
          const { value, grads } = tf.variableGrads(() => {
            const l = lossOf(live, part.batch);
            return parts.length === 1 ? l : l.mul(part.weight);
          }, live.variables);
          values.push(value);
          const g = live.variables.map((v) => grads[v.name]);
          summed = summed ? summed.map((s, i) => s.add(g[i])) : g;
        }
        return { values, summed: summed ?? [], stepped: summed !== null };
      });
      try {
        let lossValue = 0;
        // The parts' losses added in order, as numbers: the same sum on every backend.
        for (const v of values) lossValue += (await v.data())[0];
        if (Number.isFinite(lossValue) && stepped) adam.apply(summed);
        return lossValue;
      } finally {
        tf.dispose([...values, ...summed]);
      }
    };
    const preserved = (): string => {
      const where = lastGood ? `the last good checkpoint is ${path.relative(runDir, lastGood)}` : 'no checkpoint had been saved yet';
      return spec.alsoPreserved ? `${where}; ${spec.alsoPreserved}` : where;
    };

    try {
      let step = resume?.step ?? 0;
      let status: TrainingLoopResult['status'] = 'completed';
      while (step < config.steps) {
        if (spec.shouldCancel?.()) {
          status = 'cancelled';
          break;
        }
        const batch = spec.sampleTrainBatch(dataRng, config.batchSize);
        unsynced = fused !== null;
        const loss = fused ? fused.step(batch) : await tfjsStep(batch);
        if (!Number.isFinite(loss)) {
          throw new JobError(`loss became ${loss} at step ${step + 1}; ${spec.noun} stopped and ${preserved()}`, { runDir, lastGoodCheckpoint: lastGood });
        }
        step += 1;
        const isLast = step === config.steps;
        let metrics: Metrics | undefined;
        if (step % config.logEvery === 0 || isLast || step === 1) {
          sync();
          metrics = await evaluate(live);
          appendMetrics(runDir, { step, time: seconds(), loss, metrics });
        }
        if (config.checkpointEvery > 0 && step % config.checkpointEvery === 0 && !isLast) {
          await saveAt(step, true);
          update({ step, seconds: seconds() });
        }
        const now = performance.now();
        if (metrics || now - lastEmit > 100 || isLast) {
          lastEmit = now;
          const rate = step / Math.max(seconds(), 1e-9);
          emit({ kind: 'progress', step, totalSteps: config.steps, loss, metrics, stepsPerSecond: rate, etaSeconds: (config.steps - step) / rate });
          // Let the event loop deliver messages (cancel, progress) between bursts of steps.
          await new Promise((r) => setImmediate(r));
        }
      }
      // A cancelled run saves what it needs to resume; a completed one no longer needs any of it.
      const saved = await saveAt(step, status === 'cancelled');
      sync();
      // Final numbers on sequences never used before, larger than the per-log sample.
      const { finalMetrics, manifest: extra } = await spec.finish(live, root, saved);
      update({ status, step, seconds: seconds(), finalMetrics, ...extra });
      if (status === 'completed') for (const o of listOptimizerStates(runDir)) fs.rmSync(o.file, { force: true });
      return { runDir, status, steps: step, seconds: seconds(), finalMetrics, weightsFile: saved.file };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      update({ status: 'failed', error: message, seconds: seconds() });
      if (err instanceof JobError) throw err;
      throw new JobError(message, { runDir, lastGoodCheckpoint: lastGood });
    }
  } finally {
    optimizer?.dispose();
    trainee?.dispose();
    own.lock.release();
    if (!wrote && own.createdDir) {
      // Nothing was written: leave no empty folder behind a start that failed (e.g. a model that does not build).
      try {
        fs.rmdirSync(runDir);
      } catch {
        // Not empty (someone else's files) or already gone.
      }
    }
  }
}

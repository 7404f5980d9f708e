import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { ApiArgumentError } from '../../shared/errors';
import { SAES_DIR, SaeName, type SaeCurvePoint, type SaeDetails, type SaeFeaturesArgs, type SaeFeaturesResult, type SaeInterventionArgs, type SaeInterventionResult, type SaeSummary, type StartSaeArgs } from '../../shared/sae';
import { assertInsideWorkspace, assertNewRunFolder, RunFolderError } from '../io/runFolderGuard';
import { isRunFolder } from '../io/runStore';
import { READ_LIMITS, readRegularTextSync } from '../io/safeFs';
import { checkSaeFits } from './hookActivations';
import { DEFAULT_SAE_JOB, saePrompts, type SaeJobOptions } from './runSae';
import { SAE_CFG_FILE, SAE_METRICS_FILE, SAE_SUMMARY_FILE } from './saeConfig';
import { featureReport } from './saeFeatures';
import { readSae } from './saeFormat';
import { RANDOM_DIRECTIONS, readStudy as readStudyContext, studyEffects } from './saeStudy';
import { checkSaeHook, openSubject } from './saeSubject';
import { norm } from '../analysis/linalg';

/**
 * The workspace's SAEs (WORKSPACE/saes/<name>/) for the workbench API: names checked to stay inside the
 * workspace, the list and one SAE's details read from its folder, the options of a training job, and
 * the feature report and feature interventions computed on the SAE's run or model.
 */

const guard = <T>(fn: () => T): T => {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RunFolderError) throw new ApiArgumentError(err.message);
    throw err;
  }
};

/** WORKSPACE/saes/<name>, refused when the name is not one folder name or the path leaves the workspace (symbolic links included). */
export function saeFolder(root: string, name: string): string {
  const parsed = SaeName.safeParse(name);
  if (!parsed.success) throw new ApiArgumentError(`SAE name '${name}': ${parsed.error.issues[0]?.message ?? 'not a folder name'}`);
  const parent = path.join(root, SAES_DIR);
  if (isRunFolder(parent)) throw new ApiArgumentError(`the workspace's '${SAES_DIR}' folder is a run; SAEs cannot live inside it (move that run away)`);
  const dir = path.join(parent, name);
  guard(() => assertInsideWorkspace(dir, root, `SAE '${name}'`));
  return dir;
}

/** A folder for a new SAE: new or empty. */
export function newSaeFolder(root: string, name: string): string {
  const dir = saeFolder(root, name);
  if (fs.existsSync(path.join(dir, SAE_CFG_FILE))) throw new ApiArgumentError(`an SAE named '${name}' already exists`);
  guard(() => assertNewRunFolder(dir, { workspace: root }));
  return dir;
}

/** An SAE that exists. */
export function existingSaeFolder(root: string, name: string): string {
  const dir = saeFolder(root, name);
  if (!fs.existsSync(path.join(dir, SAE_CFG_FILE))) throw new ApiArgumentError(`no SAE '${name}' in the workspace (${SAES_DIR}/${name}/${SAE_CFG_FILE})`);
  return dir;
}

function readJson(file: string): Record<string, unknown> {
  const text = readRegularTextSync(file, READ_LIMITS.json);
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The run or model (workspace id) an SAE was trained on, from its training summary. */
function subjectOf(root: string, summary: Record<string, unknown> | null): { subject?: string } {
  if (!summary) return {};
  const subject = str(summary.subject);
  if (subject) return { subject };
  // An SAE trained by `oocr sae train` on a folder of this workspace.
  const target = str(summary.target);
  if (target && path.isAbsolute(target)) {
    const rel = path.relative(root, target);
    if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) return { subject: rel.split(path.sep).join('/') };
  }
  return {};
}

function summaryOf(root: string, name: string, dir: string): { item: SaeSummary; cfg: Record<string, unknown>; summary: Record<string, unknown> | null } {
  const cfg = readJson(path.join(dir, SAE_CFG_FILE));
  const meta = (cfg.metadata && typeof cfg.metadata === 'object' ? cfg.metadata : {}) as Record<string, unknown>;
  const summaryFile = path.join(dir, SAE_SUMMARY_FILE);
  const summary = fs.existsSync(summaryFile) ? readJson(summaryFile) : null;
  const ev = (summary?.eval ?? {}) as Record<string, unknown>;
  const kwargs = (cfg.activation_fn_kwargs ?? {}) as Record<string, unknown>;
  const item: SaeSummary = {
    name,
    hook: str(cfg.hook_name) ?? str(meta.hook_name),
    architecture: str(cfg.architecture) ?? (cfg.activation_fn_str === 'topk' ? 'topk' : 'standard'),
    dIn: num(cfg.d_in),
    dSae: num(cfg.d_sae),
    k: num(cfg.k) ?? num(kwargs.k),
    ...subjectOf(root, summary),
    status: str(summary?.status),
    steps: num(summary?.steps),
    l0: num(ev.l0),
    fve: num(ev.fve),
    deadFraction: num(ev.deadFraction),
    lossRecovered: num(ev.lossRecovered),
  };
  return { item, cfg, summary };
}

/** Every folder under WORKSPACE/saes holding a cfg.json; one that cannot be read is listed with its error. */
export function listWorkspaceSaes(root: string): SaeSummary[] {
  const parent = path.join(root, SAES_DIR);
  if (!fs.existsSync(parent) || !fs.statSync(parent).isDirectory() || isRunFolder(parent)) return [];
  const out: SaeSummary[] = [];
  for (const e of fs.readdirSync(parent, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name.startsWith('.') || !SaeName.safeParse(e.name).success) continue;
    const dir = path.join(parent, e.name);
    if (!fs.existsSync(path.join(dir, SAE_CFG_FILE))) continue;
    try {
      out.push(summaryOf(root, e.name, saeFolder(root, e.name)).item);
    } catch (err) {
      out.push({ name: e.name, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** One SAE: cfg.json, the training summary, the curve (metrics.jsonl) and the density histogram of its final evaluation. */
export function getWorkspaceSae(root: string, name: string): SaeDetails {
  const dir = existingSaeFolder(root, name);
  const { item, cfg, summary } = summaryOf(root, name, dir);
  const curve: SaeCurvePoint[] = [];
  const metricsFile = path.join(dir, SAE_METRICS_FILE);
  if (fs.existsSync(metricsFile)) {
    for (const line of readRegularTextSync(metricsFile, READ_LIMITS.json).split('\n')) {
      if (!line.trim()) continue;
      try {
        const m = JSON.parse(line) as Record<string, unknown>;
        const step = num(m.step);
        const loss = num(m.loss);
        if (step === undefined || loss === undefined) continue;
        curve.push({ step, loss, mse: num(m.mse), l0: num(m.l0), fve: num(m.fve), dead: num(m.dead), lr: num(m.lr) });
      } catch {
        // A torn last line (a job killed mid-write) is skipped; the rest of the curve stays.
      }
    }
  }
  const ev = (summary?.eval ?? {}) as Record<string, unknown>;
  const hist = Array.isArray(ev.densityHistogram) ? (ev.densityHistogram as SaeDetails['densityHistogram']) : [];
  return { ...item, cfg, summary, curve, densityHistogram: hist, dead: num(ev.dead), nEvalTokens: num(ev.nTokens) };
}

/** The options of the job that trains SAE `args.name` into `outDir` on the folder `targetDir`. */
export function saeJobOptions(args: z.output<typeof StartSaeArgs>, o: { targetDir: string; outDir: string }): SaeJobOptions {
  const architecture = args.architecture === 'relu' ? 'standard' : 'topk';
  if (args.architecture === 'relu' && args.k !== undefined) throw new ApiArgumentError('k applies to TopK SAEs (architecture topk)');
  if (args.architecture === 'topk' && args.l1 !== undefined) throw new ApiArgumentError('l1 applies to ReLU SAEs (architecture relu)');
  const expansion = args.expansion ?? DEFAULT_SAE_JOB.expansion;
  const k = args.k ?? DEFAULT_SAE_JOB.k;
  return {
    target: o.targetDir,
    hook: args.hook,
    architecture,
    expansion,
    ...(architecture === 'topk' ? { k } : {}),
    l1: args.l1 ?? DEFAULT_SAE_JOB.l1,
    lr: args.lr ?? DEFAULT_SAE_JOB.lr,
    warmupSteps: DEFAULT_SAE_JOB.warmupSteps,
    l1WarmupSteps: DEFAULT_SAE_JOB.l1WarmupSteps,
    tokens: args.tokens ?? DEFAULT_SAE_JOB.tokens,
    batchSize: args.batchSize ?? DEFAULT_SAE_JOB.batchSize,
    seed: args.seed ?? DEFAULT_SAE_JOB.seed,
    evalSamples: args.evalSamples ?? DEFAULT_SAE_JOB.evalSamples,
    outDir: o.outDir,
    summaryExtra: { name: args.name, subject: args.id },
  };
}

/** Checks a job's hook on the run before it is queued (a caller's mistake answers at once, not as a failed job). */
export function checkSaeJob(job: SaeJobOptions): void {
  const subject = openSubject(job.target, { adapterDir: job.adapter });
  try {
    checkSaeHook(subject.config, job.hook);
    if (!subject.task) throw new ApiArgumentError(`'${subject.id}' has no task prompts to train on (oocr sae train --data FILE)`);
  } finally {
    subject.release();
  }
}

export interface SaeInputs {
  saeDir: string;
  name: string;
  /** The run folder, and its id as named. */
  subjectDir: string;
  subjectId: string;
  studyDir?: string;
  studyId?: string;
}

/** The SAE's run as recorded (the workbench resolves the id to a folder). */
export function saeSubjectId(root: string, name: string): { subject?: string } {
  const dir = existingSaeFolder(root, name);
  return summaryOf(root, name, dir).item;
}

/** The feature report of src/core/sae/saeFeatures.ts on the SAE's model, with a study's vectors and latent label when given. */
export function saeFeatures(inp: SaeInputs, args: z.output<typeof SaeFeaturesArgs>): SaeFeaturesResult {
  const sae = readSae(inp.saeDir);
  const study = inp.studyDir ? studyContext(inp.studyDir, 50) : undefined;
  const subject = openSubject(inp.subjectDir, { id: inp.subjectId });
  try {
    const hook = checkSaeHook(subject.config, sae.cfg.hook_name);
    guardFits(() => checkSaeFits(subject, hook, sae.cfg.d_in, `SAE '${inp.name}'`));
    if (study && study.vectors.trained_sv.length !== sae.cfg.d_in) throw new ApiArgumentError(`study '${inp.studyId}' has vectors of width ${study.vectors.trained_sv.length}, the SAE reads d_in ${sae.cfg.d_in}`);
    const prompts = saePrompts(subject, { seed: args.seed ?? 0, evalSamples: args.evalSamples ?? 50 });
    const r = featureReport(subject, sae, prompts.eval, { top: args.top ?? 10, examples: args.examples ?? 8, histogramBins: 20, vectors: study?.vectors, latentCity: study?.latentCity });
    return {
      name: inp.name,
      subject: inp.subjectId,
      ...(inp.studyId ? { study: inp.studyId } : {}),
      ...r,
      vectorNorms: Object.fromEntries(Object.entries(study?.vectors ?? {}).map(([k, v]) => [k, norm(v)])),
    };
  } finally {
    subject.release();
  }
}

function guardFits(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    throw new ApiArgumentError(err instanceof Error ? err.message : String(err));
  }
}

function studyContext(dir: string, samples: number): ReturnType<typeof readStudyContext> {
  try {
    return readStudyContext(dir, samples);
  } catch (err) {
    throw new ApiArgumentError(err instanceof Error ? err.message : String(err));
  }
}

/** Ablating one feature in the steered model and steering the base model with it, on the study's held-out questions. */
export function saeIntervention(inp: SaeInputs & { studyDir: string; studyId: string }, args: z.output<typeof SaeInterventionArgs>): SaeInterventionResult {
  const sae = readSae(inp.saeDir);
  if (args.feature >= sae.cfg.d_sae) throw new ApiArgumentError(`feature ${args.feature} is outside the SAE's ${sae.cfg.d_sae} features`);
  const study = studyContext(inp.studyDir, args.samples ?? 100);
  const record = readJson(path.join(inp.studyDir, 'analyses', 'lora_vs_steering.json'));
  if (study.steer.length !== sae.cfg.d_in) throw new ApiArgumentError(`study '${inp.studyId}' has vectors of width ${study.steer.length}, the SAE reads d_in ${sae.cfg.d_in}`);
  const subject = openSubject(inp.subjectDir, { id: inp.subjectId });
  try {
    const hook = checkSaeHook(subject.config, sae.cfg.hook_name);
    guardFits(() => checkSaeFits(subject, hook, sae.cfg.d_in, `SAE '${inp.name}'`));
    const e = studyEffects(subject, sae, study, [args.feature], [args.alpha]);
    const f = e.features[0];
    const rnd = e.randomDirectionAcc[0];
    return {
      name: inp.name,
      study: inp.studyId,
      feature: args.feature,
      alpha: args.alpha,
      hook: e.hook,
      nHeldOut: e.nHeldOut,
      chance: num(record.chance) ?? 0,
      baseAcc: e.baseAcc,
      steeredAcc: e.steeredAcc,
      steeredSplicedAcc: e.steeredSplicedAcc,
      steeredAblatedAcc: f.steeredAblatedAcc,
      featureSteeringAcc: f.featureSteeringAcc[0].acc,
      vectorWithoutDirectionAcc: f.vectorWithoutDirectionAcc,
      cosineWithTrained: f.cosineWithTrained,
      trainedVectorNorm: e.trainedVectorNorm,
      randomDirectionAcc: { mean: rnd.mean, max: rnd.max, n: RANDOM_DIRECTIONS },
    };
  } finally {
    subject.release();
  }
}

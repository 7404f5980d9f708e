import type { JobState } from '../../shell/jobs';
import type { TrainOverrides } from '../../../../shared/api';

/** Shaping for the Train view: form defaults and checks, progress text, which job to show (pure). */

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Local time as yyyymmdd-hhmmss. */
export function timestamp(d: Date): string {
  return `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
}

/** `${prefix}-${yyyymmdd-hhmmss}`: a fresh folder name per start. */
export function defaultRunName(prefix: string, d: Date): string {
  return `${prefix}-${timestamp(d)}`;
}

export const RUN_NAME_RE = /^[A-Za-z0-9._-]+$/;

/**
 * Why a run folder name is refused, or null when it is fine. `taken` holds the workspace's run ids
 * as last listed (the API checks both again).
 */
export function runNameError(name: string, taken?: ReadonlySet<string>): string | null {
  if (!name) return 'Enter a run name.';
  if (name.length > 200) return 'The name is too long (at most 200 characters).';
  if (!RUN_NAME_RE.test(name)) return 'Use only letters, digits, dot, underscore and hyphen (it becomes a folder name).';
  if (name === '.' || name === '..') return 'A run name cannot be . or ..';
  if (taken?.has(name)) return `A run named ${name} already exists.`;
  return null;
}

export interface NumberRule {
  label: string;
  integer: boolean;
  min: number;
  max: number;
  /** The bound is exclusive at the bottom (a learning rate must be > 0). */
  minExclusive?: boolean;
}

export const STEPS_RULE: NumberRule = { label: 'Steps', integer: true, min: 1, max: 1_000_000 };
export const SEED_RULE: NumberRule = { label: 'Seed', integer: true, min: 0, max: 2 ** 31 - 1 };
export const LR_RULE: NumberRule = { label: 'Learning rate', integer: false, min: 0, max: 10, minExclusive: true };
export const WEIGHT_DECAY_RULE: NumberRule = { label: 'Weight decay', integer: false, min: 0, max: 10 };
export const BATCH_RULE: NumberRule = { label: 'Batch size', integer: true, min: 1, max: 100_000 };
export const RANK_RULE: NumberRule = { label: 'OV rank', integer: true, min: 1, max: 4096 };
export const STUDY_STEPS_RULE: NumberRule = { label: 'Steps', integer: true, min: 1, max: 100_000 };

/** An optional number field: blank → undefined; otherwise checked against the rule. */
export function parseOptionalNumber(text: string, rule: NumberRule): { value?: number; error?: string } {
  const t = text.trim();
  if (!t) return {};
  const v = Number(t);
  if (!Number.isFinite(v)) return { error: `${rule.label} must be a number.` };
  if (rule.integer && !Number.isInteger(v)) return { error: `${rule.label} must be a whole number.` };
  const tooLow = rule.minExclusive ? v <= rule.min : v < rule.min;
  if (tooLow || v > rule.max) return { error: `${rule.label} must be ${rule.minExclusive ? `above ${rule.min}` : `at least ${rule.min}`} and at most ${rule.max}.` };
  return { value: v };
}

export interface TrainForm {
  preset: string;
  name: string;
  steps: string;
  seed: string;
  lr: string;
  weightDecay?: string;
  batchSize?: string;
  /** Factorized-OV presets only (the form disables it otherwise). */
  ovRank?: string;
}

export interface TrainRequest {
  preset: string;
  name: string;
  overrides?: TrainOverrides;
}

/** The startTraining arguments of a filled form, or the error of each bad field. */
export function trainRequest(f: TrainForm, taken?: ReadonlySet<string>): { request?: TrainRequest; errors: Partial<Record<keyof TrainForm, string>> } {
  const errors: Partial<Record<keyof TrainForm, string>> = {};
  if (!f.preset) errors.preset = 'Choose a preset.';
  const nameErr = runNameError(f.name, taken);
  if (nameErr) errors.name = nameErr;
  const steps = parseOptionalNumber(f.steps, STEPS_RULE);
  const seed = parseOptionalNumber(f.seed, SEED_RULE);
  const lr = parseOptionalNumber(f.lr, LR_RULE);
  const weightDecay = parseOptionalNumber(f.weightDecay ?? '', WEIGHT_DECAY_RULE);
  const batchSize = parseOptionalNumber(f.batchSize ?? '', BATCH_RULE);
  const ovRank = parseOptionalNumber(f.ovRank ?? '', RANK_RULE);
  if (steps.error) errors.steps = steps.error;
  if (seed.error) errors.seed = seed.error;
  if (lr.error) errors.lr = lr.error;
  if (weightDecay.error) errors.weightDecay = weightDecay.error;
  if (batchSize.error) errors.batchSize = batchSize.error;
  if (ovRank.error) errors.ovRank = ovRank.error;
  if (Object.keys(errors).length) return { errors };
  const overrides = Object.fromEntries(
    Object.entries({ steps: steps.value, seed: seed.value, lr: lr.value, weightDecay: weightDecay.value, batchSize: batchSize.value, ovRank: ovRank.value }).filter(([, v]) => v !== undefined),
  ) as TrainRequest['overrides'];
  return { request: { preset: f.preset, name: f.name, ...(overrides && Object.keys(overrides).length ? { overrides } : {}) }, errors };
}

export type StudyKind = 'locations' | 'backdoor';

export interface StudyForm {
  kind: StudyKind;
  name: string;
  seed: string;
  loraSteps: string;
  steerSteps: string;
}

export interface StudyRequest {
  name: string;
  kind: StudyKind;
  seed: number;
  loraSteps?: number;
  steerSteps?: number;
}

/** Rough wall time of a study with default steps, measured on the wasm backend. */
export const STUDY_COST: Record<StudyKind, string> = { locations: '~20 s', backdoor: '~70 s' };

/** The startStudy arguments of a filled form (seed defaults to 0), or the error of each bad field. */
export function studyRequest(f: StudyForm, taken?: ReadonlySet<string>): { request?: StudyRequest; errors: Partial<Record<keyof StudyForm, string>> } {
  const errors: Partial<Record<keyof StudyForm, string>> = {};
  const nameErr = runNameError(f.name, taken);
  if (nameErr) errors.name = nameErr;
  const seed = parseOptionalNumber(f.seed, SEED_RULE);
  const lora = parseOptionalNumber(f.loraSteps, STUDY_STEPS_RULE);
  const steer = parseOptionalNumber(f.steerSteps, STUDY_STEPS_RULE);
  if (seed.error) errors.seed = seed.error;
  if (lora.error) errors.loraSteps = lora.error;
  if (steer.error) errors.steerSteps = steer.error;
  if (Object.keys(errors).length) return { errors };
  const request: StudyRequest = { name: f.name, kind: f.kind, seed: seed.value ?? 0 };
  if (lora.value !== undefined) request.loraSteps = lora.value;
  if (steer.value !== undefined) request.steerSteps = steer.value;
  return { request, errors };
}

/** "12 s", "3 min 05 s", "—" when unknown. */
export function formatEta(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '—';
  if (s < 60) return `${Math.ceil(s)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${pad(Math.round(s - m * 60))} s`;
}

/** Steps per second, with one decimal below 10. */
export function formatRate(r: number): string {
  if (!Number.isFinite(r) || r <= 0) return '—';
  return r < 10 ? r.toFixed(1) : String(Math.round(r));
}

/** "step N / M · X it/s · ETA Ys" (or what is known before the first progress event). */
function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${s}`;
}

export function progressText(j: Pick<JobState, 'step' | 'totalSteps' | 'stepsPerSecond' | 'etaSeconds' | 'status' | 'position'>): string {
  if (j.status === 'queued') return `waiting for a free slot${j.position ? ` (${ordinal(j.position)} in the queue)` : ''}`;
  if (!j.totalSteps) return j.status === 'running' ? 'starting…' : `step ${j.step}`;
  const eta = j.status === 'running' ? formatEta(j.etaSeconds) : '0 s';
  return `step ${j.step} / ${j.totalSteps} · ${formatRate(j.stepsPerSecond)} it/s · ETA ${eta}`;
}

/** How a job ended, for the line under its progress bar. */
export function jobOutcome(j: Pick<JobState, 'status' | 'step' | 'log'>): { tone: 'running' | 'ok' | 'warn' | 'error'; text: string } {
  switch (j.status) {
    case 'queued':
      return { tone: 'running', text: 'Queued' };
    case 'running':
      return { tone: 'running', text: 'Running' };
    case 'completed':
      return { tone: 'ok', text: 'Completed' };
    case 'cancelled':
      return { tone: 'warn', text: `Cancelled at step ${j.step} (weights saved)` };
    case 'failed':
      return { tone: 'error', text: `Failed: ${j.log.at(-1) ?? 'no message'}` };
  }
}

/** Jobs of one kind, newest first. */
export function jobsOfKind(jobs: readonly JobState[], kind: JobState['kind']): JobState[] {
  return jobs.filter((j) => j.kind === kind).sort((a, b) => b.startedAt - a.startedAt);
}

/** The job to show: the one picked when it is still listed, else the latest started. */
export function activeJob(jobs: readonly JobState[], kind: JobState['kind'], picked: string | null): JobState | undefined {
  const list = jobsOfKind(jobs, kind);
  return list.find((j) => j.jobId === picked) ?? list[0];
}

/** A job's log lines without the failure message (shown as the outcome instead). */
export function stageLines(j: Pick<JobState, 'status' | 'log'>): string[] {
  return j.status === 'failed' ? j.log.slice(0, -1) : j.log.slice();
}

/**
 * Folder names already used in the workspace: every run id and, for nested runs (study/lora), the
 * group folder too (a study's name must not collide with either).
 */
export function takenNames(runIds: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const id of runIds) {
    out.add(id);
    const slash = id.indexOf('/');
    if (slash > 0) out.add(id.slice(0, slash));
  }
  return out;
}

import type { RunDetails, RunSummary, StudySummary } from '../../../../shared/api';
import type { JobState } from '../../shell/jobs';
import type { Metrics } from '../../../../shared/modelConfig';
import { finalEvalCounts } from '../../../../shared/evalCounts';
import { formatAccuracyCi } from '../../../../shared/wilson';
import { isAccKey } from '../../figure/curves';
import { sweepOfRunId, type SweepListItem } from '../../../../shared/sweeps';

/** Shaping for the Runs view: table rows, the run card and the studies table (pure, DOM-free). */

/** Accuracy of a fraction in [0, 1] as a percentage: 100%, 5.2%, 0%. */
export function formatAcc(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  const pct = v * 100;
  return `${Math.abs(pct - Math.round(pct)) < 0.05 ? Math.round(pct) : pct.toFixed(1)}%`;
}

/** Seconds as "9.1 s", "2 min 05 s", "1 h 02 min". */
export function formatSeconds(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s) || s < 0) return '—';
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.round(s - m * 60)).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${String(m - h * 60).padStart(2, '0')} min`;
}

/** Splits that measure generalisation (held out from training): shown first and compactly. */
const HELD_OUT = /^(test|heldout|held_out|eval|val)(_|$)/;

/** `*_acc` keys of final metrics, and the held-out ones among them (all of them when none is). */
export function accSummary(metrics: Metrics | undefined): { all: [string, number][]; headline: [string, number][] } {
  const all = Object.entries(metrics ?? {}).filter(([k, v]) => isAccKey(k) && Number.isFinite(v));
  const heldOut = all.filter(([k]) => HELD_OUT.test(k));
  return { all, headline: heldOut.length ? heldOut : all };
}

export interface RunRow {
  id: string;
  task: string;
  preset: string;
  status: string;
  step: number | undefined;
  checkpoints: number | undefined;
  finetune: string;
  /** Held-out accuracies, compact: "test_fact 100% · test_impl 5.2%". */
  accText: string;
  /** Every accuracy, one per line (the cell's title). */
  accTitle: string;
  error?: string;
}

/** A runs-table row; a run whose run.json could not be read keeps its id and error. */
export function runRow(r: RunSummary): RunRow {
  const acc = accSummary(r.finalMetrics);
  return {
    id: r.id,
    task: r.task ?? '—',
    preset: r.preset ?? '—',
    status: r.error ? 'unreadable' : (r.status ?? '—'),
    step: r.step,
    checkpoints: r.checkpoints,
    finetune: r.finetune ?? '—',
    accText: acc.headline.map(([k, v]) => `${k.replace(/_acc$/, '')} ${formatAcc(v)}`).join(' · '),
    accTitle: [
      ...acc.all.map(([k, v]) => `${k}: ${r.finalEvalCounts?.[k] ? formatAccuracyCi(v, r.finalEvalCounts[k]) : formatAcc(v)}`),
      'final evaluation on fresh sequences (95% Wilson intervals)',
    ].join('\n'),
    error: r.error,
  };
}

export interface DetailRow {
  group: 'Run' | 'Final evaluation' | 'Model' | 'Training' | 'Fine-tune';
  key: string;
  value: string;
}

const yesNo = (b: boolean): string => (b ? 'yes' : 'no');

/** The run card: key model fields, the training config, where and how long it ran. */
export function runDetailRows(d: RunDetails): DetailRow[] {
  const m = d.manifest;
  const c = m.config;
  const mc = c.model;
  const rows: DetailRow[] = [
    { group: 'Run', key: 'status', value: m.status + (m.error ? ` (${m.error})` : '') },
    { group: 'Run', key: 'preset', value: m.preset ?? '—' },
    { group: 'Run', key: 'task', value: c.task },
    { group: 'Run', key: 'step', value: `${m.step} / ${c.steps}` },
    { group: 'Run', key: 'backend', value: m.backend },
    { group: 'Run', key: 'seconds', value: formatSeconds(m.seconds) },
    { group: 'Run', key: 'checkpoints', value: d.checkpoints.length ? `${d.checkpoints.length} (steps ${d.checkpoints.join(', ')})` : 'none' },
    { group: 'Run', key: 'created', value: m.createdAt },
    { group: 'Model', key: 'nLayers', value: String(mc.nLayers) },
    { group: 'Model', key: 'dModel', value: String(mc.dModel) },
    { group: 'Model', key: 'nHeads', value: `${mc.nHeads} (dHead ${mc.dHead})` },
    { group: 'Model', key: 'ov', value: mc.ov === 'factorized' ? `factorized, rank ${mc.ovRank}` : mc.ov },
    { group: 'Model', key: 'attention', value: mc.attention },
    { group: 'Model', key: 'mlp', value: mc.mlp ? `yes (dMlp ${mc.dMlp})` : 'no' },
    { group: 'Model', key: 'layerNorm', value: yesNo(mc.layerNorm) },
    { group: 'Training', key: 'steps', value: String(c.steps) },
    { group: 'Training', key: 'batchSize', value: String(c.batchSize) },
    { group: 'Training', key: 'lr', value: String(c.optimizer.lr) },
    { group: 'Training', key: 'seed', value: String(c.seed) },
  ];
  // Every accuracy with its 95% Wilson interval, and which draw it comes from: a study or a re-run of
  // `oocr eval` draws its own questions, so its numbers differ within these intervals.
  const counts = finalEvalCounts(m);
  const accs = accSummary(m.finalMetrics).all;
  for (const [k, v] of accs) rows.push({ group: 'Final evaluation', key: k, value: counts[k] ? formatAccuracyCi(v, counts[k]) : formatAcc(v) });
  if (accs.length) {
    rows.push({
      group: 'Final evaluation',
      key: 'questions',
      value: m.finalEvalCounts ? 'the run’s eval and side-effect examples' : `${4 * c.evalSamples} fresh sequences per split, never trained on (this run’s own draw)`,
    });
  }
  if (m.finetune) {
    rows.push({ group: 'Fine-tune', key: 'method', value: m.finetune.method });
    rows.push({ group: 'Fine-tune', key: 'base', value: m.finetune.base });
    if (m.finetune.lora) rows.push({ group: 'Fine-tune', key: 'lora', value: `rank ${m.finetune.lora.rank}, alpha ${m.finetune.lora.alpha}, ${m.finetune.lora.targets.join(' ')} on layers ${m.finetune.lora.layers.join(',')}` });
    if (m.finetune.baseKind === 'model') rows.push({ group: 'Fine-tune', key: 'base kind', value: 'Hugging Face model folder' });
    if (m.finetune.peft) rows.push({ group: 'Fine-tune', key: 'PEFT LoRA', value: `r ${m.finetune.peft.r}, alpha ${m.finetune.peft.alpha}, ${m.finetune.peft.targetModules.join(' ')} on layers ${m.finetune.peft.layers.join(',')}` });
    if (m.finetune.data) rows.push({ group: 'Fine-tune', key: 'data', value: [m.finetune.data.train, m.finetune.data.eval, m.finetune.data.sideEffects].filter(Boolean).join(', ') });
    if (m.finetune.weights) rows.push({ group: 'Fine-tune', key: 'weights', value: m.finetune.weights });
    if (m.finetune.steer) rows.push({ group: 'Fine-tune', key: 'steer', value: `layer ${m.finetune.steer.layer}${m.finetune.steer.hook ? ` (${m.finetune.steer.hook})` : ''}, positions ${Array.isArray(m.finetune.steer.positions) ? m.finetune.steer.positions.join(',') : m.finetune.steer.positions}` });
  }
  return rows;
}

/** A training run that stopped before its last step and can continue from its checkpoint (fine-tunes cannot yet). */
export function canResume(d: Pick<RunDetails, 'manifest'>): boolean {
  const m = d.manifest;
  return !m.finetune && (m.status === 'cancelled' || m.status === 'failed' || m.status === 'interrupted') && m.step < m.config.steps;
}

export interface StudyRow {
  id: string;
  kind: string;
  seed: number;
  base: string;
  lora: string;
  naturalSv: string;
  trainedSv: string;
}

export function studyRows(studies: readonly StudySummary[]): StudyRow[] {
  return studies.map((s) => ({
    id: s.id,
    kind: s.kind,
    seed: s.seed,
    base: formatAcc(s.acc.base),
    lora: formatAcc(s.acc.lora),
    naturalSv: formatAcc(s.acc.natural_sv),
    trainedSv: formatAcc(s.acc.trained_sv),
  }));
}

/**
 * The run whose card is shown: the selected one, else the first trained run with checkpoints (what
 * the analysis views open), else the first readable one; the view is never blank when runs exist.
 */
export function defaultRunId(runs: readonly RunSummary[] | undefined, selected: string | null): string | null {
  if (!runs) return selected;
  // A sweep cell opened from Sweeps may not be listed yet (the list is re-read as cells finish).
  if (selected && (runs.some((r) => r.id === selected) || sweepOfRunId(selected))) return selected;
  const readable = runs.filter((r) => !r.error);
  return (readable.find((r) => (r.checkpoints ?? 0) > 0 && !r.finetune) ?? readable[0])?.id ?? null;
}

/**
 * Runs being trained (with progress reported) that the runs list does not hold yet. Study jobs are
 * left out: their folder holds runs (lora, steer) but is not one.
 */
export function unlistedRunIds(jobs: readonly Pick<JobState, 'runId' | 'kind' | 'status' | 'step'>[], runs: readonly RunSummary[] | undefined): string[] {
  if (!runs) return [];
  const listed = new Set(runs.map((r) => r.id));
  return jobs.filter((j) => j.kind === 'train' && j.status === 'running' && j.step > 0 && !listed.has(j.runId)).map((j) => j.runId);
}

/** A row of the runs table: a run, or a sweep's group of cells (shown collapsed). */
export type RunListItem =
  | { kind: 'run'; run: RunSummary }
  | { kind: 'sweep'; sweep: string; runs: RunSummary[]; completed: number; total: number; state?: SweepListItem['state'] };

/**
 * The runs table's rows: runs as they are, and the cells of each sweep (sweeps/<name>/runs/<cell>)
 * gathered into one group row where its first cell would be; `completed / total` from the sweep's
 * record when listed (cells that have not started have no run folder yet), else from the cells listed.
 */
export function groupRuns(runs: readonly RunSummary[], sweeps?: readonly SweepListItem[]): RunListItem[] {
  const out: RunListItem[] = [];
  const groups = new Map<string, Extract<RunListItem, { kind: 'sweep' }>>();
  for (const run of runs) {
    const s = sweepOfRunId(run.id);
    if (!s) {
      out.push({ kind: 'run', run });
      continue;
    }
    let g = groups.get(s.sweep);
    if (!g) {
      g = { kind: 'sweep', sweep: s.sweep, runs: [], completed: 0, total: 0 };
      groups.set(s.sweep, g);
      out.push(g);
    }
    g.runs.push(run);
  }
  for (const g of groups.values()) {
    const listed = sweeps?.find((s) => s.name === g.sweep);
    g.completed = listed ? listed.completed : g.runs.filter((r) => r.status === 'completed').length;
    g.total = listed ? Math.max(listed.total, g.runs.length) : g.runs.length;
    if (listed) g.state = listed.state;
  }
  return out;
}

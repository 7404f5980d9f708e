import * as tf from '@tensorflow/tfjs';
import type { ResolvedAnalysisArgs } from '../../shared/analyses';
import type { PointLabel, Projection3D } from '../../shared/analysis';
import { ApiArgumentError } from '../../shared/errors';
import { hookName, parseHookName, type HookName } from '../../shared/hooks';
import type { Rows } from '../analysis/linalg';
import { project3 } from '../analysis/projection';
import { projectionRows, projectRun, type ProjectRunOptions } from '../analysis/projectRun';
import { buildAdaptation, loadFinetuned } from '../finetune/runFinetune';
import { forward } from '../model/forward';
import type { HostTensor } from '../model/params';
import { runTask } from '../runs/openRun';
import type { AnalysisRunner } from './runner';
import type { AnalysisModel } from './target';

/**
 * A fine-tuned run (LoRA, steering vector or full) projected at a hook together with its base model:
 * one fit over both sets of activations, so `origins[i]` (base) → `points[i]` (fine-tuned) shows
 * what the fine-tune moved.
 */
export function projectFinetunedRun(runDir: string, o: ProjectRunOptions & { source: HookName }): Projection3D & { source: string; step: number } {
  const { manifest, base, trained } = loadFinetuned(runDir);
  const ft = manifest.finetune;
  if (!ft) throw new Error(`${runDir}: not a fine-tune run`);
  const config = base.checkpoint.config;
  const task = runTask(manifest);
  const adaptation = buildAdaptation(config, base.checkpoint.params, ft.method, { lora: ft.lora, steer: ft.steer, seed: manifest.config.seed, trained });
  try {
    const before = projectionRows(config, base.checkpoint.params, task.vocab, task, o);
    const adaptedHost: Record<string, HostTensor> = {};
    const adaptedParams = adaptation.params();
    for (const [k, t] of Object.entries(adaptedParams)) adaptedHost[k] = { shape: t.shape.slice(), data: t.dataSync() as Float32Array };
    const after = projectionRows(config, adaptedHost, task.vocab, task, { ...o, interventions: adaptation.interventions() });
    const n = before.rows.n;
    const both: Rows = { n: 2 * n, d: before.rows.d, data: new Float32Array(2 * n * before.rows.d) };
    both.data.set(before.rows.data, 0);
    both.data.set(after.rows.data, n * before.rows.d);
    const p = project3(both, [...before.labels, ...after.labels], o.method, o);
    return { source: o.source, step: manifest.step, method: p.method, varianceRatio: p.varianceRatio, points: p.points.slice(n), origins: p.points.slice(0, n), labels: after.labels };
  } finally {
    adaptation.dispose();
  }
}

/** Token groups of a model folder's vocabulary, for colouring its embeddings. */
function tokenGroup(label: string): string {
  if (label.startsWith('#')) return 'unknown';
  if (label.startsWith('·')) return 'space-prefixed';
  if (/^\p{L}/u.test(label)) return 'word-piece';
  if (/^\p{N}/u.test(label)) return 'digits';
  return 'other';
}

/** UMAP beyond this many points would keep a worker busy for minutes: PCA, or fewer texts. */
const UMAP_MAX_POINTS = 20_000;

/**
 * One point per text: the activation at `source` (`embed` = hook_embed) at `position` (default each
 * text's last token), labelled by the caller's label. Texts of equal length share a forward pass.
 */
export function projectTexts(m: AnalysisModel, args: ResolvedAnalysisArgs<'projection'>): Projection3D & { source: string } {
  const texts = args.texts ?? [];
  if (args.labels && args.labels.length !== texts.length) throw new ApiArgumentError(`${args.labels.length} labels for ${texts.length} texts: give one label per text`);
  if (texts.length < 4) throw new ApiArgumentError(`a projection needs at least 4 texts, got ${texts.length}`);
  const hook = (args.source === 'embed' ? hookName('hook_embed') : args.source) as HookName;
  const parsed = parseHookName(hook);
  if (!parsed) throw new ApiArgumentError(`unknown hook '${args.source}'`);
  if (parsed.layer !== null && parsed.layer >= m.config.nLayers) throw new ApiArgumentError(`hook '${hook}' is outside the model's layers 0..${m.config.nLayers - 1}`);
  if (hook.endsWith('hook_pattern') || hook.endsWith('hook_attn_scores')) throw new ApiArgumentError(`project a residual-stream or per-position hook, not ${hook}`);
  const prompts = texts.map((t, i) => m.encode(t, `texts[${i}]`));
  const positions = prompts.map((ids, i) => {
    const pos = args.position === undefined || args.position === 'last' ? ids.length - 1 : args.position;
    if (pos >= ids.length) throw new ApiArgumentError(`position ${pos} is outside texts[${i}] (${ids.length} tokens)`);
    return pos;
  });
  const byLength = new Map<number, number[]>();
  prompts.forEach((ids, i) => byLength.set(ids.length, [...(byLength.get(ids.length) ?? []), i]));
  const rowsOf: Float32Array[] = new Array(texts.length);
  let d = 0;
  m.withParams((params) => {
    for (const [T, members] of byLength) {
      tf.tidy(() => {
        const tokens = tf.tensor2d(Int32Array.from(members.flatMap((i) => prompts[i])), [members.length, T], 'int32');
        const act = forward(m.config, params, tokens, { cache: [hook] }).cache[hook];
        if (!act) throw new ApiArgumentError(`hook '${hook}' is not computed by this model (e.g. MLP hooks without an MLP, hook_resid_mid in parallel blocks)`);
        const flat = act.reshape([members.length, T, -1]);
        d = flat.shape[2] as number;
        const data = flat.dataSync();
        members.forEach((i, b) => (rowsOf[i] = Float32Array.from(data.subarray((b * T + positions[i]) * d, (b * T + positions[i] + 1) * d))));
      });
    }
  });
  const data = new Float32Array(texts.length * d);
  rowsOf.forEach((r, i) => data.set(r, i * d));
  const labels: PointLabel[] = texts.map((text, i) => ({ token: m.vocab[prompts[i][positions[i]]], group: args.labels?.[i] ?? 'text', prompt: i, position: positions[i], text }));
  const o = { nNeighbors: args.neighbors, minDist: args.minDist };
  return { source: hook, ...project3({ n: texts.length, d, data }, labels, args.method, o) };
}

/** A fine-tuned run is projected jointly with its base model (arrows base → fine-tuned). */
export const projection: AnalysisRunner<'projection'> = (target, args) => {
  const o: ProjectRunOptions = { source: args.source as 'embed' | HookName, method: args.method, promptsPerSet: args.promptsPerSet, position: args.position, nNeighbors: args.neighbors, minDist: args.minDist };
  if (args.labels && !args.texts) throw new ApiArgumentError('labels colour texts: give texts too');
  if (target.manifest()?.finetune) {
    if (args.texts) throw new ApiArgumentError('texts are projected on one model: a fine-tuned run is projected jointly with its base model over its task’s prompts (drop texts)');
    if (o.source === 'embed') throw new ApiArgumentError('a fine-tuned run shares its base model’s embeddings: project a hook such as blocks.0.hook_resid_post');
    const { step, ...rest } = projectFinetunedRun(target.dir, { ...o, source: o.source });
    return { step, ...rest };
  }
  const m = target.open(args.step);
  if (args.texts) return { step: m.step, ...projectTexts(m, args) };
  if (m.source === 'model') {
    if (o.source !== 'embed') throw new ApiArgumentError('a model folder has no task to draw prompts from: give texts (and labels) to project a hook');
    if (o.method === 'umap' && m.config.dVocab > UMAP_MAX_POINTS) throw new ApiArgumentError(`UMAP of ${m.config.dVocab} embeddings would take minutes: use pca, or project texts`);
    const W = m.withParams((p) => ({ shape: p['embed.W_E'].shape.slice(), data: p['embed.W_E'].dataSync() as Float32Array }));
    const r = projectRun(m.config, { 'embed.W_E': W }, m.vocab, undefined, o);
    return { step: m.step, ...r, labels: r.labels.map((l) => ({ ...l, group: tokenGroup(l.token) })) };
  }
  if (!m.hostParams) throw new Error('internal: a run without host weights');
  return { step: m.step, ...projectRun(m.config, m.hostParams, m.vocab, m.task, o) };
};

import { ApiArgumentError } from '../../shared/errors';
import path from 'node:path';
import type { ModelConfig, RunManifest } from '../../shared/modelConfig';
import type { LoadOptions } from '../hf/loadHfModel';
import { ADAPTER_CONFIG } from '../hf/peftAdapter';
import { isAdapterFolder, isModelFolder } from '../io/modelStore';
import { isRunFolder, listCheckpoints, readManifest } from '../io/runStore';
import type { Params } from '../model/forward';
import { liveParams, type HostTensor } from '../model/params';
import { checkTokenIds, openRun, openRunCheckpoints, parsePrompt, type OpenedRun } from '../runs/openRun';
import type { Task } from '../tasks/taskTypes';
import { Rng } from '../util/rng';
import { openCachedModel, type OpenedModel } from './modelCache';

/**
 * What one analysis reads, whether it came from a run's checkpoint or from a Hugging Face model folder:
 * the config, the weights (as tensors, for the length of a call), the token labels and how a prompt
 * typed by the caller becomes token ids.
 */
export interface AnalysisModel {
  source: 'run' | 'model';
  config: ModelConfig;
  /** The checkpoint step (0 for a model folder: it has no checkpoints). */
  step: number;
  /** A label per token id: a run's token names; a model's decoded token texts with visible spaces ('·cat'). */
  vocab: readonly string[];
  /** The run's task (prompt sets, default corruptions); absent for model folders. */
  task?: Task;
  /** A prompt as typed: a run's space-separated token names; a model's text, through its tokenizer. */
  encode(text: string, what: string): number[];
  /** One token named by the caller (an answer): its label, or for a model also its vocabulary string, its text or '#id'. */
  tokenId(name: string, what: string): number;
  /** The prompt an analysis reads when none is given. */
  defaultPrompt(): number[];
  /** Runs `fn` with the weights as tensors (owned by the target: never dispose them). */
  withParams<T>(fn: (p: Params) => T): T;
  /** A run's weights on the host (a model folder's live only on the backend). */
  hostParams?: Record<string, HostTensor>;
}

/**
 * What an analysis runs on: a run folder or a model folder (+ adapter), opened lazily (one analysis
 * needs one checkpoint, another every checkpoint, a third the fine-tune's base model too). `id` is the
 * run or model as the caller named it and is echoed in the result.
 */
export interface AnalysisTarget {
  id: string;
  dir: string;
  source: 'run' | 'model';
  /** The PEFT adapter folder applied to a model folder (open() gives the adapted model), if any. */
  adapterDir?: string;
  /** How a model folder's weights are read (progress), for analyses that open the model cache themselves. */
  load?: LoadOptions;
  /** A run's run.json; null for a model folder. */
  manifest(): RunManifest | null;
  /** The model at a checkpoint (default: the latest); an unknown step is the caller's mistake. */
  open(step?: number): AnalysisModel;
  /** Every checkpoint in step order (runs only: a model folder has none). */
  checkpoints(): { config: ModelConfig; checkpoints: { step: number; params: Record<string, HostTensor> }[] };
}

/** The given prompt, or the first prompt of the task's last eval split (a held-out one). */
function taskPrompt(task: Task | undefined): number[] {
  if (!task) throw new ApiArgumentError('no prompt given and the run’s task cannot supply one');
  const sets = task.evalSets(new Rng(0), 1);
  const set = sets[sets.length - 1];
  return Array.from(set.tokens.subarray(0, set.seqLen));
}

export function runModel(run: OpenedRun): AnalysisModel {
  return {
    source: 'run',
    config: run.config,
    step: run.step,
    vocab: run.vocab,
    task: run.task,
    hostParams: run.params,
    // Every id is checked against d_vocab where it enters: a vocabulary longer than the weights must
    // not reach the model's gather as an index past its embedding.
    encode: (text) => parsePrompt(run.vocab, text, run.config.nCtx, run.config.dVocab),
    tokenId(name, what) {
      const i = run.vocab.indexOf(name);
      if (i < 0) throw new ApiArgumentError(`${what}: unknown token '${name}'`);
      return checkTokenIds([i], run.config.dVocab, what)[0];
    },
    defaultPrompt: () => checkTokenIds(taskPrompt(run.task), run.config.dVocab, 'the default prompt'),
    withParams(fn) {
      // A run's weights live on the host; they are uploaded for the call and released after it.
      const params = liveParams(run.params);
      try {
        return fn(params);
      } finally {
        Object.values(params).forEach((t) => t.dispose());
      }
    },
  };
}

export function runTarget(dir: string, id: string): AnalysisTarget {
  let manifest: RunManifest | undefined;
  return {
    id,
    dir,
    source: 'run',
    manifest: () => (manifest ??= readManifest(dir)),
    open(step) {
      if (step !== undefined) {
        const steps = listCheckpoints(dir).map((c) => c.step);
        if (!steps.includes(step)) throw new ApiArgumentError(`${id}: no checkpoint at step ${step} (saved steps: ${steps.join(', ') || 'none'})`);
      }
      return runModel(openRun(dir, step));
    },
    checkpoints: () => openRunCheckpoints(dir),
  };
}

/** What a model folder analyses when no prompt is given. */
export const DEFAULT_MODEL_TEXT = 'The Eiffel Tower is in the city of';

function checkIds(m: OpenedModel, ids: number[], what: string): number[] {
  if (!ids.length) throw new ApiArgumentError(`${what}: the text has no tokens`);
  const bad = ids.find((t) => !Number.isInteger(t) || t < 0 || t >= m.config.dVocab);
  if (bad !== undefined) throw new ApiArgumentError(`${what}: token id ${bad} outside the model's vocabulary 0..${m.config.dVocab - 1}`);
  if (ids.length > m.config.nCtx) throw new ApiArgumentError(`${what} has ${ids.length} tokens but the model's context is ${m.config.nCtx}`);
  return ids;
}

export function hfModel(m: OpenedModel): AnalysisModel {
  const tok = m.tokenizer;
  const encode = (text: string, what: string): number[] => {
    if (tok) return checkIds(m, tok.encode(text), what);
    // Without tokenizer.json a prompt is token ids: "#12 #7 3".
    const parts = text.trim().split(/[\s,]+/).filter(Boolean);
    if (!parts.every((p) => /^#?\d+$/.test(p))) throw new ApiArgumentError(`${what}: ${m.dir} has no ${'tokenizer.json'}, so give token ids ("#12 #7 3"), not text`);
    return checkIds(m, parts.map((p) => Number(p.replace('#', ''))), what);
  };
  return {
    source: 'model',
    config: m.config,
    step: 0,
    get vocab() {
      return m.labels();
    },
    encode,
    tokenId(name, what) {
      const labels = m.labels();
      if (/^#\d+$/.test(name)) return checkIds(m, [Number(name.slice(1))], what)[0];
      const i = labels.indexOf(name);
      if (i >= 0) return i;
      const raw = tok?.rawId(name);
      if (raw !== undefined && raw < m.config.dVocab) return raw;
      const ids = tok?.encodeBare(name) ?? [];
      if (ids.length === 1 && ids[0] < m.config.dVocab) return ids[0];
      throw new ApiArgumentError(`${what}: '${name}' is not one token of this model (give its label such as '·Paris', its text ' Paris' when that is one token, or '#id')`);
    },
    defaultPrompt: () => (tok ? encode(DEFAULT_MODEL_TEXT, 'the default prompt').slice(0, m.config.nCtx) : Array.from({ length: Math.min(8, m.config.nCtx) }, (_, i) => i)),
    withParams: (fn) => fn(m.params),
  };
}

/**
 * A Hugging Face model folder (config.json, safetensors weights, tokenizer.json), optionally with a
 * PEFT adapter merged in. Its weights stay cached on the backend between requests (./modelCache.ts).
 */
export function modelTarget(dir: string, id: string, adapterDir?: string, load: LoadOptions = {}): AnalysisTarget {
  return {
    id,
    dir,
    source: 'model',
    ...(adapterDir ? { adapterDir } : {}),
    load,
    manifest: () => null,
    open(step) {
      if (step !== undefined && step !== 0) throw new ApiArgumentError(`${id}: a model folder has no checkpoints (its weights are step 0); drop step`);
      return hfModel(openCachedModel(dir, adapterDir, load));
    },
    checkpoints() {
      throw new ApiArgumentError(`${id}: a model folder has no checkpoints`);
    },
  };
}

/**
 * A run folder or a model folder (with an optional adapter folder), as its caller named it. `load`
 * applies to a model folder's weights when they are read (progress).
 */
export function targetFor(dir: string, id: string, adapterDir?: string, load: LoadOptions = {}): AnalysisTarget {
  if (isRunFolder(dir)) {
    if (adapterDir) throw new ApiArgumentError(`${id} is a run: an adapter applies to a model folder (a run's own fine-tunes are runs)`);
    const ft = readManifest(dir).finetune;
    // A LoRA fine-tune of a model folder is that model with the run's PEFT adapter.
    if (ft?.baseKind === 'model') {
      if (ft.method !== 'lora' || !ft.weights) throw new ApiArgumentError(`${id}: a steering-vector fine-tune of a model folder; analyse the model (${path.resolve(dir, ft.base)}), or the vector in its LoRA vs Steering study`);
      return modelTarget(path.resolve(dir, ft.base), id, path.resolve(dir, ft.weights), load);
    }
    return runTarget(dir, id);
  }
  if (isModelFolder(dir)) {
    if (adapterDir && !isAdapterFolder(adapterDir)) throw new ApiArgumentError(`adapter ${adapterDir}: no ${ADAPTER_CONFIG} (not a PEFT adapter folder)`);
    return modelTarget(dir, id, adapterDir, load);
  }
  throw new ApiArgumentError(`${id}: neither a run (run.json) nor a model folder (config.json)`);
}

import path from 'node:path';
import { ApiArgumentError } from '../../shared/errors';
import { parseHookName, type HookName } from '../../shared/hooks';
import type { ModelConfig } from '../../shared/modelConfig';
import { openCachedModel } from '../analyses/modelCache';
import { targetFor } from '../analyses/target';
import type { Params } from '../model/forward';
import { liveParams } from '../model/params';
import { openRun, parsePrompt } from '../runs/openRun';
import type { Task } from '../tasks/taskTypes';

/**
 * The model an SAE reads: a run's checkpoint (its task supplies prompts) or a Hugging Face model folder
 * (with an optional PEFT adapter), with its weights live on the backend until `release()`.
 */
export interface SaeSubject {
  id: string;
  source: 'run' | 'model';
  /** What cfg.json's model_name records: the run or model folder's name. */
  modelName: string;
  config: ModelConfig;
  params: Params;
  /** A label per token id. */
  vocab: readonly string[];
  task?: Task;
  /** A text as token ids, cut to the context: a run's space-separated token names, a model's text. */
  tokenize(text: string): number[];
  release(): void;
}

export function openSubject(dir: string, opts: { id?: string; adapterDir?: string } = {}): SaeSubject {
  const id = opts.id ?? dir;
  const target = targetFor(dir, id, opts.adapterDir);
  const modelName = path.basename(path.resolve(dir));
  if (target.source === 'run') {
    const run = openRun(target.dir);
    const params = liveParams(run.params);
    return {
      id,
      source: 'run',
      modelName,
      config: run.config,
      params,
      vocab: run.vocab,
      task: run.task,
      tokenize: (text) => parsePrompt(run.vocab, text, undefined, run.config.dVocab).slice(0, run.config.nCtx),
      release: () => Object.values(params).forEach((t) => t.dispose()),
    };
  }
  const m = openCachedModel(target.dir, target.adapterDir);
  const tok = m.tokenizer;
  return {
    id,
    source: 'model',
    modelName,
    config: m.config,
    // Owned by the model cache: never disposed here.
    params: m.params,
    get vocab() {
      return m.labels();
    },
    tokenize(text) {
      if (!tok) throw new ApiArgumentError(`${m.dir} has no tokenizer.json: an SAE dataset needs a model with a tokenizer`);
      return tok.encode(text).slice(0, m.config.nCtx);
    },
    release: () => {},
  };
}

/**
 * Checks that `hook` names an activation an SAE can read ([B, T, ...] with position on axis 1: not the
 * attention scores or pattern) inside this model's layers.
 */
export function checkSaeHook(c: ModelConfig, hook: string): HookName {
  const parsed = parseHookName(hook);
  if (!parsed) throw new ApiArgumentError(`unknown hook '${hook}' (TransformerLens names such as blocks.0.hook_resid_post, blocks.1.hook_mlp_out)`);
  if (parsed.layer !== null && parsed.layer >= c.nLayers) throw new ApiArgumentError(`hook '${hook}' is outside the model's layers 0..${c.nLayers - 1}`);
  if (parsed.hook === 'attn.hook_attn_scores' || parsed.hook === 'attn.hook_pattern') throw new ApiArgumentError(`hook '${hook}': an SAE reads per-token activations, not attention patterns`);
  if (parsed.hook === 'ln_final.hook_normalized' && !c.layerNorm) throw new ApiArgumentError(`hook '${hook}': this model has no final normalisation`);
  if (parsed.hook === 'hook_resid_mid' && c.nLayers > 0 && !c.residual) throw new ApiArgumentError(`hook '${hook}': this model has no residual stream`);
  return hook as HookName;
}

import * as tf from '@tensorflow/tfjs';
import { Option, type Command } from 'commander';
import { BACKEND_ORDER, type BackendName } from '../../shared/backend';
import type { ModelConfig } from '../../shared/modelConfig';
import { initBackend } from '../../core/backend/initBackend';
import { loadHfLiveModel, readHfModelConfig } from '../../core/hf/loadHfModel';
import { loadPeftAdapter } from '../../core/hf/peftAdapter';
import { forwardOutputs } from '../../core/hf/runForward';
import { hasTokenizer, loadTokenizer, type TextTokenizer } from '../../core/hf/tokenizer';
import { openWeightSource } from '../../core/hf/weightSource';
import { writeSafetensorsFile, type NamedTensor } from '../../core/io/safetensors';
import { fail } from '../fail';

/** Prints the one-line JSON result last on stdout, so scripts can take `tail -n 1`. */
function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** A message, never a stack trace: loaders name the file and tensor themselves. */

function parseIds(text: string): number[] {
  const ids = text.split(',').map((s) => s.trim());
  if (ids.some((s) => !/^\d+$/.test(s))) throw new Error(`--ids: expected comma-separated token ids, got "${text}"`);
  return ids.map(Number);
}

export interface ForwardSummary {
  model: string;
  architecture: string;
  n_layers: number;
  tokens: number[];
  top_next: { id: number; token: string | null; prob: number }[];
}

/** Softmax of one row of logits in float64, the k most likely ids. */
function topNext(logits: Float32Array, offset: number, V: number, k: number, tok: TextTokenizer | null): ForwardSummary['top_next'] {
  let max = -Infinity;
  for (let i = 0; i < V; i++) max = Math.max(max, logits[offset + i]);
  let sum = 0;
  for (let i = 0; i < V; i++) sum += Math.exp(logits[offset + i] - max);
  const ids = Array.from({ length: V }, (_, i) => i).sort((a, b) => logits[offset + b] - logits[offset + a]);
  return ids.slice(0, k).map((id) => ({ id, token: tok ? tok.tokenText(id) : null, prob: Math.exp(logits[offset + id] - max) / sum }));
}

export async function runModelForward(o: { model: string; adapter?: string; text?: string; ids?: string; out: string; backend?: BackendName }): Promise<ForwardSummary> {
  if ((o.text === undefined) === (o.ids === undefined)) throw new Error('give exactly one of --text and --ids');
  const model = readHfModelConfig(o.model);
  const tok = hasTokenizer(o.model) ? loadTokenizer(o.model) : null;
  let tokens: number[];
  if (o.text !== undefined) {
    if (!tok) throw new Error(`${o.model}: no tokenizer.json, so --text cannot be tokenized (give --ids)`);
    tokens = tok.encode(o.text);
  } else {
    tokens = parseIds(o.ids ?? '');
  }
  const adapter = o.adapter ? loadPeftAdapter(o.adapter, model) : null;
  await initBackend({ backend: o.backend });
  const c: ModelConfig = model.config;
  const { live } = loadHfLiveModel(o.model);
  const adapterTensors = adapter ? Object.fromEntries(Object.entries(adapter.tensors).map(([k, v]) => [k, tf.tensor(v.data, v.shape, 'float32')])) : undefined;
  try {
    const out = forwardOutputs(c, live.params, tokens, adapterTensors);
    const tensors: Record<string, NamedTensor> = { logits: out.logits };
    out.residPost.forEach((r, l) => (tensors[`blocks.${l}.hook_resid_post`] = r));
    await writeSafetensorsFile(o.out, tensors, { model: o.model, architecture: model.modelType, tokens: JSON.stringify(tokens), ...(o.adapter ? { adapter: o.adapter } : {}) });
    const T = tokens.length;
    return { model: o.model, architecture: model.modelType, n_layers: c.nLayers, tokens, top_next: topNext(out.logits.data, (T - 1) * c.dVocab, c.dVocab, 5, tok) };
  } finally {
    live.dispose();
    for (const t of Object.values(adapterTensors ?? {})) t.dispose();
  }
}

export interface ModelInfo {
  model: string;
  architecture: string;
  /** The canonical config the workbench runs. */
  config: ModelConfig;
  /** config.json as stored. */
  hf_config: Record<string, unknown>;
  parameters: number;
  dtypes: Record<string, number>;
  files: string[];
  tensors: { name: string; dtype: string; shape: number[] }[];
}

/** A model folder's config and tensor table, from config.json and the safetensors headers only. */
export function modelInfo(dir: string): ModelInfo {
  const cfg = readHfModelConfig(dir);
  const src = openWeightSource(dir, cfg.architecture.prefixes);
  const tensors = [...src.tensors.values()].map((t) => ({ name: t.stored, dtype: t.dtype, shape: t.shape }));
  const weights = [...src.tensors.entries()].filter(([name]) => !cfg.architecture.ignore.test(name)).map(([, t]) => t);
  const dtypes: Record<string, number> = {};
  for (const t of weights) dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
  return {
    model: dir,
    architecture: cfg.modelType,
    config: cfg.config,
    hf_config: cfg.raw,
    parameters: weights.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0),
    dtypes,
    files: src.files,
    tensors,
  };
}

export function formatModelInfo(i: ModelInfo): string {
  const c = i.config;
  const out = [
    `model      ${i.model}`,
    `type       ${i.architecture}   ${(i.parameters / 1e6).toFixed(2)}M parameters   ${Object.entries(i.dtypes).map(([d, n]) => `${n} ${d}`).join(', ')}`,
    `shape      ${c.nLayers} layers, d_model ${c.dModel}, ${c.nHeads} heads of ${c.dHead}${c.nKeyValueHeads && c.nKeyValueHeads !== c.nHeads ? ` (${c.nKeyValueHeads} key/value)` : ''}, d_mlp ${c.dMlp}, vocab ${c.dVocab}, context ${c.nCtx}`,
    `config     ${JSON.stringify(c)}`,
    `files      ${i.files.join(', ')}`,
    'tensors:',
    ...i.tensors.map((t) => `  ${t.name.padEnd(48)} ${t.dtype.padEnd(5)} [${t.shape.join(', ')}]`),
  ];
  return out.join('\n');
}

/** `oocr forward`: one text or id list through a Hugging Face model folder (and optional PEFT adapter). */
export function registerModelCommands(program: Command): void {
  program
    .command('forward')
    .description('run a Hugging Face model folder on a text or token ids; write logits and residual streams')
    .requiredOption('--model <dir>', 'model folder (config.json, *.safetensors, tokenizer.json)')
    .option('--adapter <dir>', 'PEFT LoRA adapter folder (adapter_config.json, adapter_model.safetensors)')
    .option('--text <text>', 'prompt, tokenized with the folder’s tokenizer.json')
    .option('--ids <ids>', 'comma-separated token ids instead of --text')
    .requiredOption('--out <file>', 'safetensors file: logits [T, d_vocab] and blocks.{l}.hook_resid_post [T, d_model]')
    .addOption(new Option('--backend <name>', 'force a compute backend instead of the first that loads').choices([...BACKEND_ORDER]))
    .option('--json', 'print one JSON object as the last stdout line')
    .addHelpText('after', '\nExample:\n  npx oocr forward --model models/gpt2 --text "The Eiffel Tower is in" --out acts.safetensors --json')
    .action(async (o: { model: string; adapter?: string; text?: string; ids?: string; out: string; backend?: BackendName; json?: boolean }) => {
      try {
        const r = await runModelForward(o);
        if (o.json) printJson(r);
        else {
          process.stdout.write(`${r.architecture}, ${r.n_layers} layers, ${r.tokens.length} tokens → ${o.out}\nnext token:\n`);
          for (const t of r.top_next) process.stdout.write(`  ${String(t.id).padStart(6)} ${JSON.stringify(t.token)} ${t.prob.toFixed(4)}\n`);
        }
      } catch (err) {
        fail(err);
      }
    });
}

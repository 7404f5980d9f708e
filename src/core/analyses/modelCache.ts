import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ModelConfig } from '../../shared/modelConfig';
import { loraDelta } from '../finetune/lora';
import { CONFIG_FILE, loadHfLiveModel, readHfModelConfig, type LoadOptions } from '../hf/loadHfModel';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, loadPeftAdapter } from '../hf/peftAdapter';
import { hasTokenizer, loadTokenizer, tokenLabels, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE, type TextTokenizer } from '../hf/tokenizer';
import { weightFiles } from '../hf/weightSource';
import type { Params } from '../model/forward';
import { paramSpecs } from '../model/params';
import type { LoraTarget } from '../../shared/finetune';

/**
 * Hugging Face model folders opened for analyses, kept on the backend between requests (the analysis
 * worker answers one request after another on the same model). An entry is keyed by its folder and
 * the modification times and sizes of its files, so a folder rewritten on disk is read again; an
 * adapter is merged into a view of its base model's weights (only the adapted matrices are new
 * tensors), keyed the same way. The cache holds at most `limitBytes` of float32 weights and evicts the
 * least recently used models beyond that, and every other model when the machine runs short of free
 * memory before a load.
 */

export interface OpenedModel {
  dir: string;
  modelType: string;
  config: ModelConfig;
  /** Weights on the backend: the base model's, or with an adapter merged (W + scale·BA). */
  params: Params;
  tokenizer: TextTokenizer | null;
  /** Every token id's label (decoded text, visible spaces), built once per model. */
  labels(): readonly string[];
  /** The adapter's folder and rank, when one is applied. */
  adapter?: { dir: string; r: number; alpha: number; modules: string[] };
}

interface AdaptedEntry {
  stamp: string;
  params: Params;
  owned: tf.Tensor[];
  bytes: number;
  meta: NonNullable<OpenedModel['adapter']>;
}

interface Entry {
  stamp: string;
  modelType: string;
  config: ModelConfig;
  params: Params;
  tokenizer: TextTokenizer | null;
  labels?: string[];
  bytes: number;
  adapters: Map<string, AdaptedEntry>;
  used: number;
}

const entries = new Map<string, Entry>();
let clock = 0;
let limitBytes = defaultLimit();

/** OOCR_MODEL_CACHE_MB, else a quarter of the machine's memory (at least 1 GiB). */
function defaultLimit(): number {
  const mb = Number(process.env.OOCR_MODEL_CACHE_MB);
  if (Number.isFinite(mb) && mb > 0) return mb * 2 ** 20;
  return Math.max(2 ** 30, os.totalmem() / 4);
}

export function setModelCacheLimit(bytes: number): void {
  limitBytes = bytes;
}

/** Size, mtime and name of each file that defines a folder's model (or adapter). */
function stampOf(dir: string, files: readonly string[]): string {
  return files
    .map((f) => {
      try {
        const s = fs.statSync(path.join(dir, f));
        return `${f}:${s.size}:${s.mtimeMs}`;
      } catch {
        return `${f}:-`;
      }
    })
    .join('|');
}

function modelStamp(dir: string): string {
  return stampOf(dir, [CONFIG_FILE, ...weightFiles(dir).files, TOKENIZER_FILE, TOKENIZER_CONFIG_FILE]);
}

const float32Bytes = (c: ModelConfig): number => paramSpecs(c).reduce((s, p) => s + 4 * p.shape.reduce((a, b) => a * b, 1), 0);

function entryBytes(e: Entry): number {
  let b = e.bytes;
  for (const a of e.adapters.values()) b += a.bytes;
  return b;
}

export function modelCacheBytes(): number {
  let total = 0;
  for (const e of entries.values()) total += entryBytes(e);
  return total;
}

function evict(dir: string): void {
  const e = entries.get(dir);
  if (!e) return;
  for (const a of e.adapters.values()) a.owned.forEach((t) => t.dispose());
  Object.values(e.params).forEach((t) => t.dispose());
  entries.delete(dir);
}

/** Frees every cached model (tests; the worker on shutdown). */
export function clearModelCache(): void {
  for (const dir of [...entries.keys()]) evict(dir);
}

/** Evicts least recently used models (never `keep`) until `need` more bytes fit under the limit and in free memory. */
function makeRoom(need: number, keep?: string): void {
  const lru = [...entries.entries()].filter(([d]) => d !== keep).sort((a, b) => a[1].used - b[1].used);
  for (const [dir] of lru) {
    const short = modelCacheBytes() + need > limitBytes || os.freemem() < need * 1.25;
    if (!short) break;
    evict(dir);
  }
}

function openEntry(dir: string, opts: LoadOptions): Entry {
  const stamp = modelStamp(dir);
  const cached = entries.get(dir);
  if (cached && cached.stamp === stamp) return cached;
  if (cached) evict(dir);
  const cfg = readHfModelConfig(dir);
  const bytes = float32Bytes(cfg.config);
  makeRoom(bytes);
  const tokenizer = hasTokenizer(dir) ? loadTokenizer(dir) : null;
  const { model, live } = loadHfLiveModel(dir, opts);
  const e: Entry = { stamp, modelType: model.modelType, config: model.config, params: live.params, tokenizer, bytes, adapters: new Map(), used: ++clock };
  entries.set(dir, e);
  return e;
}

function openAdapter(e: Entry, dir: string, adapterDir: string): AdaptedEntry {
  const stamp = stampOf(adapterDir, [ADAPTER_CONFIG, ADAPTER_WEIGHTS]);
  const cached = e.adapters.get(adapterDir);
  if (cached && cached.stamp === stamp) return cached;
  if (cached) {
    cached.owned.forEach((t) => t.dispose());
    e.adapters.delete(adapterDir);
  }
  const cfg = readHfModelConfig(dir);
  const adapter = loadPeftAdapter(adapterDir, cfg);
  const weights = new Set(Object.keys(adapter.tensors).map((k) => k.replace(/\.lora_[AB]$/, '')));
  const bytes = [...weights].reduce((s, w) => s + 4 * e.params[w].size, 0);
  makeRoom(bytes, dir);
  const params: Params = { ...e.params };
  const owned: tf.Tensor[] = [];
  for (const w of weights) {
    const A = adapter.tensors[`${w}.lora_A`];
    const B = adapter.tensors[`${w}.lora_B`];
    const target = w.slice(w.indexOf('.', 'blocks.'.length) + 1) as LoraTarget;
    // The adapter's scale is already folded into its lora_B.
    const merged = tf.tidy(() => e.params[w].add(loraDelta(e.params[w].shape, target, tf.tensor(A.data, A.shape), tf.tensor(B.data, B.shape), 1)));
    params[w] = merged;
    owned.push(merged);
  }
  const a: AdaptedEntry = { stamp, params, owned, bytes, meta: { dir: adapterDir, r: adapter.r, alpha: adapter.alpha, modules: adapter.modules } };
  e.adapters.set(adapterDir, a);
  return a;
}

/**
 * A model folder (and optional PEFT adapter folder) with its weights on the backend, from the cache
 * when its files have not changed. The returned tensors belong to the cache: never dispose them.
 * `opts.onProgress` hears how far the weights have been read when they are loaded (not on a cache hit).
 */
export function openCachedModel(dir: string, adapterDir?: string, opts: LoadOptions = {}): OpenedModel {
  const e = openEntry(dir, opts);
  e.used = ++clock;
  const a = adapterDir ? openAdapter(e, dir, adapterDir) : undefined;
  return {
    dir,
    modelType: e.modelType,
    config: e.config,
    params: a ? a.params : e.params,
    tokenizer: e.tokenizer,
    labels: () => (e.labels ??= e.tokenizer ? tokenLabels(e.tokenizer, e.config.dVocab) : Array.from({ length: e.config.dVocab }, (_, i) => `#${i}`)),
    ...(a ? { adapter: a.meta } : {}),
  };
}

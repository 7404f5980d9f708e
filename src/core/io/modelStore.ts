import fs from 'node:fs';
import { READ_LIMITS, readRegularTextSync } from './safeFs';
import path from 'node:path';
import { z } from 'zod';
import type { AdapterSummary, ModelSummary } from '../../shared/api';
import { ApiArgumentError } from '../../shared/errors';
import { RunId } from '../../shared/runId';
import { CONFIG_FILE, readHfModelConfig, type HfModelConfig } from '../hf/loadHfModel';
import { ADAPTER_CONFIG, checkPeftAdapter } from '../hf/peftAdapter';
import { hasTokenizer } from '../hf/tokenizer';
import { INDEX_FILE, openWeightSource, SINGLE_FILE } from '../hf/weightSource';
import { writeFileAtomicSync } from './atomicWrite';
import { isDirectory, isRunFolder, subdirectories } from './runStore';
import { CheckpointError } from './safetensors';

/**
 * The Hugging Face model folders of a workspace: folders of the workspace holding config.json and
 * safetensors weights (one level of nesting, as runs), and folders registered by absolute path in the
 * workspace's `models.json` (File → Open Model…, the Runs view's path field). Listing reads config.json
 * and the safetensors headers only, never the weights. PEFT adapters belong to a model when they lie
 * inside its folder or beside it and fit it (checked from their headers), or were registered with it.
 */

export const MODELS_FILE = 'models.json';

const RegistrySchema = z.object({
  version: z.literal(1),
  models: z.array(z.object({ id: z.string(), path: z.string() }).strict()),
  adapters: z.array(z.object({ id: z.string(), path: z.string(), model: z.string() }).strict()),
});
export type ModelRegistry = z.infer<typeof RegistrySchema>;


/** A folder with a Hugging Face config.json that is not a run (its weights are checked when it loads). */
export const isModelFolder = (dir: string): boolean => !isRunFolder(dir) && fs.existsSync(path.join(dir, CONFIG_FILE));

/** A model folder with safetensors weights (single file, index or shards): what listing shows. */
export function looksLikeModelFolder(dir: string): boolean {
  if (!isModelFolder(dir)) return false;
  if (fs.existsSync(path.join(dir, SINGLE_FILE)) || fs.existsSync(path.join(dir, INDEX_FILE))) return true;
  try {
    return fs.readdirSync(dir).some((f) => f.endsWith('.safetensors'));
  } catch {
    return false;
  }
}

/** A PEFT adapter folder (adapter_config.json). */
export const isAdapterFolder = (dir: string): boolean => fs.existsSync(path.join(dir, ADAPTER_CONFIG));

export function readRegistry(root: string): ModelRegistry {
  const file = path.join(root, MODELS_FILE);
  if (!fs.existsSync(file)) return { version: 1, models: [], adapters: [] };
  const text = readRegularTextSync(file, READ_LIMITS.json);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const parsed = RegistrySchema.safeParse(json);
  if (!parsed.success) throw new Error(`${file}: not a model registry (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`);
  return parsed.data;
}

function writeRegistry(root: string, reg: ModelRegistry): void {
  writeFileAtomicSync(path.join(root, MODELS_FILE), `${JSON.stringify(reg, null, 2)}\n`);
}

const relId = (root: string, dir: string): string => path.relative(root, dir).split(path.sep).join('/');
const insideWorkspace = (root: string, dir: string): boolean => dir !== root && dir.startsWith(root + path.sep);
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));
/** A folder name as an id segment (letters, digits, . _ -). */
const idSegment = (name: string): string => name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '') || 'model';

/** Model folders of the workspace (one level of nesting); a run and its analyses are never models. */
export function workspaceModelDirs(root: string): string[] {
  const out: string[] = [];
  for (const dir of subdirectories(root)) {
    if (looksLikeModelFolder(dir)) out.push(dir);
    else if (!isRunFolder(dir)) out.push(...subdirectories(dir).filter(looksLikeModelFolder));
  }
  return out;
}

/** config.json + the weights' headers: architecture, shape, parameters, dtype and size. */
function describe(dir: string): { cfg: HfModelConfig; fields: Omit<ModelSummary, 'id' | 'path' | 'source' | 'adapters'> } {
  const cfg = readHfModelConfig(dir);
  const src = openWeightSource(dir, cfg.architecture.prefixes);
  try {
    const weights = [...src.tensors.entries()].filter(([name]) => !cfg.architecture.ignore.test(name)).map(([, t]) => t);
    const dtypes = new Map<string, number>();
    for (const t of weights) dtypes.set(t.dtype, (dtypes.get(t.dtype) ?? 0) + 1);
    const c = cfg.config;
    return {
      cfg,
      fields: {
        architecture: cfg.modelType,
        nLayers: c.nLayers,
        dModel: c.dModel,
        nHeads: c.nHeads,
        dVocab: c.dVocab,
        nCtx: c.nCtx,
        nParams: weights.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0),
        dtype: [...dtypes.entries()].sort((a, b) => b[1] - a[1]).map(([d]) => d).join('+'),
        sizeBytes: src.files.reduce((s, f) => s + fs.statSync(f).size, 0),
        tokenizer: hasTokenizer(dir),
      },
    };
  } finally {
    src.close();
  }
}

function adapterSummary(id: string, dir: string, cfg: HfModelConfig): AdapterSummary {
  const a = checkPeftAdapter(dir, cfg);
  return { id, path: dir, r: a.r, alpha: a.alpha, targets: a.targets, layers: a.layers };
}

/** An id of the API's run-id form (`name` or `group/name`), which the analyses' `id` and `adapter` take. */
const fitsRunId = (id: string): boolean => RunId.safeParse(id).success;

/** An adapter's id: its path in the workspace, or `adapters/<folder>` outside it. */
const adapterIdFor = (root: string, adapterDir: string): string => {
  const rel = insideWorkspace(root, adapterDir) ? relId(root, adapterDir) : '';
  return fitsRunId(rel) ? rel : `adapters/${idSegment(path.basename(adapterDir))}`;
};

/**
 * The adapters of one model: folders inside it, folders beside it that fit it, and those registered
 * with it. Ids: the path in the workspace, or `adapters/<folder>` outside it.
 */
function adaptersOf(root: string, reg: ModelRegistry, dir: string, modelId: string, cfg: HfModelConfig | null): AdapterSummary[] {
  const out: AdapterSummary[] = [];
  const seen = new Set<string>();
  const idFor = (adapterDir: string): string => adapterIdFor(root, adapterDir);
  const add = (adapterDir: string, id: string, mustFit: boolean): void => {
    if (seen.has(adapterDir)) return;
    if (!cfg) {
      if (mustFit) out.push({ id, path: adapterDir, error: 'the model cannot be read' });
      seen.add(adapterDir);
      return;
    }
    try {
      out.push(adapterSummary(id, adapterDir, cfg));
      seen.add(adapterDir);
    } catch (err) {
      // An adapter beside a model may be another model's: list it only where it is meant for this one.
      if (mustFit) {
        out.push({ id, path: adapterDir, error: message(err) });
        seen.add(adapterDir);
      }
    }
  };
  for (const r of reg.adapters.filter((a) => a.model === modelId)) add(r.path, r.id, true);
  for (const child of subdirectories(dir).filter(isAdapterFolder)) add(child, idFor(child), true);
  for (const sibling of subdirectories(path.dirname(dir)).filter((d) => d !== dir && isAdapterFolder(d))) add(sibling, idFor(sibling), false);
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

function summarise(root: string, reg: ModelRegistry, id: string, dir: string, source: ModelSummary['source']): ModelSummary {
  let cfg: HfModelConfig | null = null;
  let fields: Partial<ModelSummary> = {};
  let error: string | undefined;
  try {
    if (isDirectory(dir) !== true) throw new Error(`${dir}: folder not found`);
    const d = describe(dir);
    cfg = d.cfg;
    fields = d.fields;
  } catch (err) {
    error = message(err);
  }
  return { id, path: dir, source, ...fields, adapters: adaptersOf(root, reg, dir, id, cfg), ...(error ? { error } : {}) };
}

/** Every model of the workspace and of its registry, workspace folders first, each sorted by id. */
export function listModels(root: string): ModelSummary[] {
  let reg: ModelRegistry;
  let regError: string | undefined;
  try {
    reg = readRegistry(root);
  } catch (err) {
    reg = { version: 1, models: [], adapters: [] };
    regError = message(err);
  }
  const own = workspaceModelDirs(root).map((dir) => summarise(root, reg, relId(root, dir), dir, 'workspace'));
  const registered = reg.models.map((m) => summarise(root, reg, m.id, m.path, 'registered'));
  const out = [...own, ...registered];
  // A broken models.json must not hide the workspace's own models: it is listed as an entry with its error.
  if (regError) out.push({ id: MODELS_FILE, path: path.join(root, MODELS_FILE), source: 'registered', adapters: [], error: regError });
  return out;
}

/** The folder of a model registered by path under `id` (models.json), or null. */
export function registeredModelDir(root: string, id: string): string | null {
  return readRegistry(root).models.find((m) => m.id === id)?.path ?? null;
}

/**
 * The folder of adapter `adapterId` as model `modelDir` (id `modelId`) lists it (registered with it,
 * inside it, beside it), or null when it lists none by that id. One it lists with an error is the
 * caller's mistake, with that error.
 */
export function listedAdapterDir(root: string, modelDir: string, modelId: string, adapterId: string): string | null {
  let cfg: HfModelConfig | null = null;
  try {
    cfg = readHfModelConfig(modelDir);
  } catch {
    return null; // the analysis reports the model's own error
  }
  const hit = adaptersOf(root, readRegistry(root), modelDir, modelId, cfg).find((a) => a.id === adapterId);
  if (hit?.error) throw new ApiArgumentError(`adapter '${adapterId}' does not fit model '${modelId}': ${hit.error}`);
  return hit?.path ?? null;
}

/** Checks that `dir` is a supported Hugging Face model folder, as the caller's mistake when it is not. */
function checkModel(dir: string): HfModelConfig {
  if (isDirectory(dir) !== true) throw new ApiArgumentError(`${dir}: no such folder`);
  if (isRunFolder(dir)) throw new ApiArgumentError(`${dir} is a workbench run (run.json), not a Hugging Face model folder: open its workspace instead`);
  if (isAdapterFolder(dir) && !isModelFolder(dir)) throw new ApiArgumentError(`${dir} is a PEFT adapter, not a model: open its base model and give this folder as the adapter`);
  try {
    const { cfg } = describe(dir);
    return cfg;
  } catch (err) {
    if (err instanceof CheckpointError) throw new ApiArgumentError(`not a supported Hugging Face model folder: ${err.message}`);
    throw err;
  }
}

/**
 * Registers a model folder (and optionally an adapter for it) in models.json, after checking both
 * from their headers; a folder already listed (in the workspace or registered) keeps its id. Returns
 * the model's summary.
 */
export function registerModel(root: string, modelPath: string, adapterPath?: string): ModelSummary {
  const dir = path.resolve(modelPath);
  const cfg = checkModel(dir);
  const reg = readRegistry(root);
  const own = workspaceModelDirs(root);
  let id: string;
  let changed = false;
  if (insideWorkspace(root, dir) && own.includes(dir)) {
    id = relId(root, dir);
  } else {
    const existing = reg.models.find((m) => path.resolve(m.path) === dir);
    if (existing) id = existing.id;
    else {
      const ids = new Set([...reg.models.map((m) => m.id), ...own.map((d) => relId(root, d))]);
      const base = `models/${idSegment(path.basename(dir))}`;
      id = base;
      for (let i = 2; ids.has(id) || fs.existsSync(path.join(root, id)); i++) id = `${base}-${i}`;
      reg.models.push({ id, path: dir });
      changed = true;
    }
  }
  if (adapterPath !== undefined) {
    const a = path.resolve(adapterPath);
    if (isDirectory(a) !== true) throw new ApiArgumentError(`adapter ${a}: no such folder`);
    if (!isAdapterFolder(a)) throw new ApiArgumentError(`adapter ${a}: no ${ADAPTER_CONFIG} (not a PEFT adapter folder)`);
    try {
      checkPeftAdapter(a, cfg);
    } catch (err) {
      throw new ApiArgumentError(`adapter ${a} is not a PEFT LoRA adapter for ${dir}: ${message(err)}`);
    }
    const listed = adaptersOf(root, reg, dir, id, cfg);
    if (!listed.some((x) => path.resolve(x.path) === a && !x.error)) {
      const base = adapterIdFor(root, a);
      const taken = new Set([...reg.adapters.map((x) => x.id), ...listed.map((x) => x.id)]);
      let aid = base;
      for (let i = 2; taken.has(aid); i++) aid = `${base}-${i}`;
      reg.adapters.push({ id: aid, path: a, model: id });
      changed = true;
    }
  }
  if (changed) writeRegistry(root, reg);
  return summarise(root, reg, id, dir, reg.models.some((m) => m.id === id) ? 'registered' : 'workspace');
}

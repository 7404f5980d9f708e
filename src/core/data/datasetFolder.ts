import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomicSync } from '../io/atomicWrite';
import { readJsonlExamples, writeJsonlExamples, type TextExample } from './jsonl';

/**
 * A text dataset on disk: a folder with `train.jsonl` (required), `eval.jsonl` (held-out OOCR questions),
 * `side_effects.jsonl` (what fine-tuning should not break) and `dataset.json` (the manifest below).
 * docs/datasets.md describes the format and the generators that write it.
 */
export const DATASET_FILES = { train: 'train.jsonl', eval: 'eval.jsonl', sideEffects: 'side_effects.jsonl', manifest: 'dataset.json' } as const;

export const DATASET_FORMAT = 'oocr-dataset/1';

export interface DatasetManifest {
  format: 'oocr-dataset/1';
  kind: string;
  seed: number;
  description: string;
  /** Chance level of the headline (mean held-out accuracy). */
  chance: number;
  counts: { train: number; eval: number; sideEffects: number };
  /** labels of eval examples (headline = mean of their accuracies) */
  evalLabels: string[];
  sideEffectLabels: string[];
  [extra: string]: unknown;
}

export interface TextDataset {
  /** The dataset folder, or the folder holding the single .jsonl file that was read. */
  dir: string;
  /** The files read (null: none), for messages that name where an example came from. */
  files: { train: string; eval: string | null; sideEffects: string | null };
  manifest: DatasetManifest | null;
  train: TextExample[];
  eval: TextExample[];
  sideEffects: TextExample[];
}

/** What a generator returns and writeDatasetFolder writes. */
export interface DatasetContent {
  manifest: DatasetManifest;
  train: TextExample[];
  eval: TextExample[];
  sideEffects: TextExample[];
}

/** Labels that examples without one get on reading. */
export const DEFAULT_EVAL_LABEL = 'eval';
export const DEFAULT_SIDE_EFFECT_LABEL = 'side_effect';

const ManifestSchema = z.looseObject({
  format: z.literal(DATASET_FORMAT),
  kind: z.string(),
  seed: z.number(),
  description: z.string(),
  chance: z.number().min(0).max(1),
  counts: z.object({ train: z.number().int().min(0), eval: z.number().int().min(0), sideEffects: z.number().int().min(0) }),
  evalLabels: z.array(z.string()),
  sideEffectLabels: z.array(z.string()),
});

function readManifestFile(file: string): DatasetManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data as DatasetManifest;
}

/** Distinct labels in first-seen order (examples without a label count as `fallback`). */
export function distinctLabels(examples: readonly TextExample[], fallback: string): string[] {
  return [...new Set(examples.map((e) => e.label ?? fallback))];
}

function withDefaultLabel(examples: TextExample[], label: string): TextExample[] {
  return examples.map((e) => (e.label === undefined ? { ...e, label } : e));
}

/** An optional file: read when it exists (or when named explicitly, then it must exist), else []. */
/** The file an optional set is read from: the explicit one, else the folder's if it exists. */
function optionalFile(explicit: string | undefined, implicit: string | null): string | null {
  if (explicit !== undefined) return explicit;
  return implicit !== null && fs.existsSync(implicit) ? implicit : null;
}

/**
 * A dataset folder (train.jsonl required, eval/side_effects optional → []), or a single .jsonl file path
 * (then it is train only). `opts` override the eval / side-effect file paths. Eval examples without a
 * label get `eval`, side-effect examples `side_effect`.
 */
export function readDataset(pathToFolderOrFile: string, opts: { eval?: string; sideEffects?: string } = {}): TextDataset {
  const p = pathToFolderOrFile;
  let stat: fs.Stats;
  try {
    stat = fs.statSync(p);
  } catch {
    throw new Error(`${p}: file not found`);
  }
  let dir: string;
  let trainFile: string;
  let manifest: DatasetManifest | null = null;
  let evalFile: string | null;
  let sideFile: string | null;
  if (stat.isDirectory()) {
    dir = p;
    trainFile = path.join(p, DATASET_FILES.train);
    if (!fs.existsSync(trainFile)) {
      throw new Error(`${p}: no ${DATASET_FILES.train} (a dataset folder holds ${DATASET_FILES.train}, and optionally ${DATASET_FILES.eval}, ${DATASET_FILES.sideEffects} and ${DATASET_FILES.manifest})`);
    }
    const manifestFile = path.join(p, DATASET_FILES.manifest);
    if (fs.existsSync(manifestFile)) manifest = readManifestFile(manifestFile);
    evalFile = optionalFile(opts.eval, path.join(p, DATASET_FILES.eval));
    sideFile = optionalFile(opts.sideEffects, path.join(p, DATASET_FILES.sideEffects));
  } else {
    dir = path.dirname(p);
    trainFile = p;
    evalFile = optionalFile(opts.eval, null);
    sideFile = optionalFile(opts.sideEffects, null);
  }
  const train = readJsonlExamples(trainFile);
  const evalEx = evalFile ? readJsonlExamples(evalFile) : [];
  const sideEx = sideFile ? readJsonlExamples(sideFile) : [];
  return {
    dir,
    files: { train: trainFile, eval: evalFile, sideEffects: sideFile },
    manifest,
    train,
    eval: withDefaultLabel(evalEx, DEFAULT_EVAL_LABEL),
    sideEffects: withDefaultLabel(sideEx, DEFAULT_SIDE_EFFECT_LABEL),
  };
}

/**
 * Writes a dataset folder. Refuses a folder that already has train.jsonl. train.jsonl is written last,
 * so an interrupted write leaves a folder that a second attempt may overwrite. `counts` in the written
 * manifest are the real ones; empty eval / side-effect sets are not written (readDataset gives []).
 */
export function writeDatasetFolder(dir: string, ds: DatasetContent): void {
  const trainFile = path.join(dir, DATASET_FILES.train);
  if (fs.existsSync(trainFile)) throw new Error(`${dir} already holds a dataset (${DATASET_FILES.train}); choose another folder`);
  if (ds.train.length === 0) throw new Error(`${dir}: a dataset needs at least one training example`);
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, examples] of [[DATASET_FILES.eval, ds.eval], [DATASET_FILES.sideEffects, ds.sideEffects]] as const) {
    const file = path.join(dir, name);
    // An empty set leaves no file (a stale one from an interrupted write is removed).
    if (examples.length > 0) writeJsonlExamples(file, examples);
    else fs.rmSync(file, { force: true });
  }
  const manifest: DatasetManifest = { ...ds.manifest, counts: { train: ds.train.length, eval: ds.eval.length, sideEffects: ds.sideEffects.length } };
  writeFileAtomicSync(path.join(dir, DATASET_FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
  writeJsonlExamples(trainFile, ds.train);
}

import { join } from 'node:path';
import type { ModelConfig } from '../../shared/modelConfig';
import { CheckpointError } from '../io/safetensors';
import { FileReadError, readRegularTextSync, READ_LIMITS } from '../io/safeFs';
import * as tf from '@tensorflow/tfjs';
import type { Params } from '../model/forward';
import type { LiveModel } from '../model/liveModel';
import type { HostTensor } from '../model/params';
import { architectureFor, SUPPORTED_MODEL_TYPES } from './architectures';
import type { HfArchitecture } from './architectures/types';
import { HfConfigReader } from './configReader';
import { convertWeights, convertWeightsInto } from './convert';
import { openWeightSource, type TensorLocation, type WeightSource } from './weightSource';

export const CONFIG_FILE = 'config.json';

export interface HfModelConfig {
  dir: string;
  modelType: string;
  architecture: HfArchitecture;
  config: ModelConfig;
  /** config.json as read. */
  raw: Record<string, unknown>;
}

export interface HfModel extends HfModelConfig {
  /** Canonical TransformerLens-named float32 parameters (what toLiveModel takes). */
  params: Record<string, HostTensor>;
  /** Stored tensors per dtype, e.g. { BF16: 290 }. */
  dtypes: Record<string, number>;
  /** Stored tensors that are neither weights of this model nor known buffers (worth a look, not fatal). */
  unused: string[];
}

/** How far a model's weights have been read: bytes as stored on disk (headers' sizes, across shards). */
export interface LoadProgress {
  bytesRead: number;
  totalBytes: number;
  /** The weight file last read from. */
  file: string;
}

export interface LoadOptions {
  /**
   * Called as tensors are read: at the start (0), then whenever another 1% or 100 ms has passed, and
   * once at the end with bytesRead = totalBytes (buffers that are not weights, never read, count as
   * done then). Never more than once at totalBytes, and never decreasing.
   */
  onProgress?(p: LoadProgress): void;
}

/** Minimum step between two progress calls: a fraction of the total, or a time. */
const PROGRESS_FRACTION = 0.01;
const PROGRESS_MS = 100;

/** The weight source of a folder, reporting progress through `onProgress` (throttled). */
function openReporting(dir: string, prefixes: readonly string[], onProgress: LoadOptions['onProgress']): { src: WeightSource; finish(): void } {
  if (!onProgress) return { src: openWeightSource(dir, prefixes), finish: () => {} };
  let bytesRead = 0;
  let file = '';
  let sentBytes = 0;
  let sentAt = Date.now();
  let total = 0;
  const src = openWeightSource(dir, prefixes, {
    onRead(loc: TensorLocation) {
      bytesRead += loc.bytes;
      file = loc.file;
      const now = Date.now();
      // Below the total only: the one call at totalBytes is finish()'s.
      if (bytesRead < total && (bytesRead - sentBytes >= total * PROGRESS_FRACTION || now - sentAt >= PROGRESS_MS)) {
        sentBytes = bytesRead;
        sentAt = now;
        onProgress({ bytesRead, totalBytes: total, file });
      }
    },
  });
  total = src.totalBytes;
  if (total > 0) onProgress({ bytesRead: 0, totalBytes: total, file: src.files[0] ?? '' });
  return { src, finish: () => onProgress({ bytesRead: total, totalBytes: total, file: file || (src.files[src.files.length - 1] ?? '') }) };
}

export function readJsonFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    // A regular file of bounded size only: a FIFO or /dev/zero is refused by name, never read.
    text = readRegularTextSync(file, READ_LIMITS.json);
  } catch (err) {
    throw new CheckpointError(file, err instanceof FileReadError ? err.problem : `cannot read (${(err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(file, `not valid JSON (${(err as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new CheckpointError(file, 'is not a JSON object');
  return json as Record<string, unknown>;
}

/** config.json → architecture and canonical config, refusing an unsupported model_type by name. */
export function readHfModelConfig(dir: string): HfModelConfig {
  const file = join(dir, CONFIG_FILE);
  const raw = readJsonFile(file);
  const modelType = raw.model_type;
  if (typeof modelType !== 'string') throw new CheckpointError(file, `has no "model_type"; supported: ${SUPPORTED_MODEL_TYPES.join(', ')}`);
  const architecture = architectureFor(modelType);
  if (!architecture) throw new CheckpointError(file, `model_type "${modelType}" is not supported; supported: ${SUPPORTED_MODEL_TYPES.join(', ')}`);
  let config: ModelConfig;
  try {
    config = architecture.config(new HfConfigReader(file, raw), modelType);
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    throw new CheckpointError(file, (err as Error).message);
  }
  return { dir, modelType, architecture, config, raw };
}

/**
 * Reads a Hugging Face model folder into the canonical transformer: config.json, then the safetensors
 * weights (single or sharded, F32/F16/BF16) converted by the architecture's own converter.
 */
export function loadHfModel(dir: string, opts: LoadOptions = {}): HfModel {
  const cfg = readHfModelConfig(dir);
  const { src, finish } = openReporting(dir, cfg.architecture.prefixes, opts.onProgress);
  try {
    const params = convertWeights(cfg.architecture, src, cfg.config);
    const dtypes: Record<string, number> = {};
    for (const t of src.tensors.values()) dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
    finish();
    return { ...cfg, params, dtypes, unused: src.untaken(cfg.architecture.ignore).map((n) => src.tensors.get(n)?.stored ?? n) };
  } finally {
    src.close();
  }
}

/**
 * A model folder straight onto the compute backend (frozen tensors): each tensor is read from disk,
 * converted and uploaded on its own, and its host copy dropped at once, so loading never holds the
 * weights twice (nor a whole shard's bytes).
 */
export function loadHfLiveModel(dir: string, opts: LoadOptions = {}): { model: Omit<HfModel, 'params'>; live: LiveModel } {
  const cfg = readHfModelConfig(dir);
  const { src, finish } = openReporting(dir, cfg.architecture.prefixes, opts.onProgress);
  const params: Params = {};
  const dispose = (): void => Object.values(params).forEach((t) => t.dispose());
  try {
    convertWeightsInto(cfg.architecture, src, cfg.config, (name, shape, data) => {
      params[name]?.dispose();
      params[name] = tf.tensor(data, shape, 'float32');
    });
    const dtypes: Record<string, number> = {};
    for (const t of src.tensors.values()) dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
    const model = { ...cfg, dtypes, unused: src.untaken(cfg.architecture.ignore).map((n) => src.tensors.get(n)?.stored ?? n) };
    finish();
    return { model, live: { config: cfg.config, params, trainable: [], trainableNames: [], dispose } };
  } catch (err) {
    dispose();
    throw err;
  } finally {
    src.close();
  }
}

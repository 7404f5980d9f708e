import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FileReadError, readRegularTextSync, READ_LIMITS } from '../io/safeFs';
import { CheckpointError, openSafetensorsFileSync, readSafetensorsHeaderSync, tensorByteSize, type SafetensorsEntry, type SafetensorsIndex } from '../io/safetensors';

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

/** Where one tensor of a Hugging Face folder lives: its shard and its name there (with any prefix). */
export interface TensorLocation extends SafetensorsEntry {
  file: string;
  stored: string;
  /** Its bytes in the file (as stored: 2 per element for F16/BF16). */
  bytes: number;
}

/**
 * The weights of a Hugging Face model folder (one `model.safetensors`, or shards listed by
 * `model.safetensors.index.json`), addressed by names without the base-model prefix (`h.0.ln_1.weight`
 * whether the file says `transformer.h.0.ln_1.weight` or not). Only headers are read up front; each
 * tensor's bytes are read from disk when it is taken (never a whole shard at once).
 */
export interface WeightSource {
  dir: string;
  files: string[];
  tensors: ReadonlyMap<string, TensorLocation>;
  /** Bytes of every tensor the headers list, across shards (taken or not). */
  totalBytes: number;
  has(name: string): boolean;
  /** The tensor as float32, after checking its shape; `why` says what fixed that shape (for the error). */
  take(name: string, shape: readonly number[], why: string): Float32Array;
  /** Names present but never taken, nor matched by `ignore`. */
  untaken(ignore?: RegExp): string[];
  /** Drops the shard bytes held. */
  close(): void;
}

/** Lists a folder's weight files: the index's shards, or the single file. */
export function weightFiles(dir: string): { files: string[]; weightMap: Map<string, string> | null } {
  const indexPath = join(dir, INDEX_FILE);
  if (existsSync(indexPath)) {
    let text: string;
    try {
      text = readRegularTextSync(indexPath, READ_LIMITS.json);
    } catch (err) {
      throw new CheckpointError(indexPath, err instanceof FileReadError ? err.problem : (err as Error).message);
    }
    let index: unknown;
    try {
      index = JSON.parse(text);
    } catch (err) {
      throw new CheckpointError(indexPath, `not valid JSON (${(err as Error).message})`);
    }
    const map = (index as { weight_map?: unknown } | null)?.weight_map;
    if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new CheckpointError(indexPath, 'has no "weight_map" object');
    const weightMap = new Map<string, string>();
    for (const [name, file] of Object.entries(map)) {
      if (typeof file !== 'string' || file.includes('/') || file.includes('\\')) throw new CheckpointError(indexPath, `weight_map entry "${name}" is not a file name in this folder`);
      weightMap.set(name, file);
    }
    const files = [...new Set(weightMap.values())].sort();
    for (const f of files) if (!existsSync(join(dir, f))) throw new CheckpointError(join(dir, f), `shard listed in ${INDEX_FILE} is missing`);
    return { files, weightMap };
  }
  if (existsSync(join(dir, SINGLE_FILE))) return { files: [SINGLE_FILE], weightMap: null };
  throw new CheckpointError(dir, `no ${SINGLE_FILE} or ${INDEX_FILE} (only safetensors weights are read; convert .bin/.pt first)`);
}

/** Removes the longest of `prefixes` that starts `name`. */
export function stripPrefix(name: string, prefixes: readonly string[]): string {
  let best = '';
  for (const p of prefixes) if (name.startsWith(p) && p.length > best.length) best = p;
  return name.slice(best.length);
}

export interface WeightSourceOptions {
  /** Called after a tensor's bytes are read from disk, the first time it is taken. */
  onRead?(loc: TensorLocation): void;
}

export function openWeightSource(dir: string, prefixes: readonly string[], opts: WeightSourceOptions = {}): WeightSource {
  const { files, weightMap } = weightFiles(dir);
  const tensors = new Map<string, TensorLocation>();
  for (const file of files) {
    const path = join(dir, file);
    const { entries } = readSafetensorsHeaderSync(path);
    for (const [stored, entry] of entries) {
      if (weightMap && weightMap.get(stored) !== file) {
        // The index is what loaders trust; a tensor it places elsewhere (or omits) is a broken folder.
        throw new CheckpointError(path, `holds tensor "${stored}" but ${INDEX_FILE} ${weightMap.has(stored) ? `places it in ${weightMap.get(stored)}` : 'does not list it'}`);
      }
      const name = stripPrefix(stored, prefixes);
      const prior = tensors.get(name);
      if (prior) throw new CheckpointError(path, `tensors "${prior.stored}" and "${stored}" both name "${name}"`);
      tensors.set(name, { ...entry, file: path, stored, bytes: tensorByteSize(entry) });
    }
  }
  if (weightMap) {
    for (const [stored, file] of weightMap) {
      const name = stripPrefix(stored, prefixes);
      if (tensors.get(name)?.stored !== stored) throw new CheckpointError(join(dir, file), `tensor "${stored}" listed in ${INDEX_FILE} is not in this shard`);
    }
  }

  const taken = new Set<string>();
  // Indexes only (headers): each tensor's bytes are read from disk when it is taken.
  const open = new Map<string, SafetensorsIndex>();
  const shard = (path: string): SafetensorsIndex => {
    let s = open.get(path);
    if (!s) {
      s = openSafetensorsFileSync(path);
      open.set(path, s);
    }
    return s;
  };

  let totalBytes = 0;
  for (const t of tensors.values()) totalBytes += t.bytes;

  return {
    dir,
    files: files.map((f) => join(dir, f)),
    tensors,
    totalBytes,
    has: (name) => tensors.has(name),
    take(name, shape, why) {
      const loc = tensors.get(name);
      if (!loc) {
        const where = files.length === 1 ? files[0] : `${files.length} shards`;
        // Name it as this folder would store it, with the prefix its other tensors carry.
        const prefixed = [...tensors.entries()].find(([n, t]) => t.stored !== n && t.stored.endsWith(n));
        const stored = prefixed ? `${prefixed[1].stored.slice(0, prefixed[1].stored.length - prefixed[0].length)}${name}` : name;
        throw new CheckpointError(join(dir, files.length === 1 ? files[0] : INDEX_FILE), `missing tensor "${stored}" [${shape.join(', ')}] (needed for ${why}; looked in ${where})`);
      }
      if (loc.shape.join(',') !== shape.join(',')) {
        throw new CheckpointError(loc.file, `tensor "${loc.stored}" has shape [${loc.shape.join(', ')}] but ${why} needs [${shape.join(', ')}]`);
      }
      const data = shard(loc.file).read(loc.stored);
      const first = !taken.has(name);
      taken.add(name);
      if (first) opts.onRead?.(loc);
      return data;
    },
    untaken(ignore) {
      return [...tensors.keys()].filter((n) => !taken.has(n) && !(ignore && ignore.test(n)));
    },
    close() {
      open.clear();
    },
  };
}

import type { ModelConfig } from '../../shared/modelConfig';
import { CheckpointError } from '../io/safetensors';

/**
 * Typed reads of a Hugging Face `config.json` (or its `text_config`). A missing field takes the
 * default the transformers config class would give it; a field of the wrong type is an error naming
 * the file and the field, never a silent NaN.
 */
export class HfConfigReader {
  constructor(
    readonly file: string,
    readonly json: Record<string, unknown>,
  ) {}

  fail(problem: string): never {
    throw new CheckpointError(this.file, problem);
  }

  has(key: string): boolean {
    return this.json[key] !== undefined && this.json[key] !== null;
  }

  int(key: string, fallback?: number): number {
    const v = this.json[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) this.fail(`"${key}" must be a non-negative integer (got ${JSON.stringify(this.json[key])})`);
    return v;
  }

  num(key: string, fallback?: number): number {
    const v = this.json[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(`"${key}" must be a number (got ${JSON.stringify(this.json[key])})`);
    return v;
  }

  /** A number, or null where the field is absent or null (optional features such as soft-capping). */
  optNum(key: string): number | null {
    return this.has(key) ? this.num(key) : null;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.json[key] ?? fallback;
    if (typeof v !== 'boolean') this.fail(`"${key}" must be true or false (got ${JSON.stringify(this.json[key])})`);
    return v;
  }

  str(key: string, fallback?: string): string {
    const v = this.json[key] ?? fallback;
    if (typeof v !== 'string') this.fail(`"${key}" must be a string (got ${JSON.stringify(this.json[key])})`);
    return v;
  }

  /** A sub-object such as `text_config` or `rope_scaling`, or null. */
  obj(key: string): Record<string, unknown> | null {
    const v = this.json[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'object' || Array.isArray(v)) this.fail(`"${key}" must be an object`);
    return v as Record<string, unknown>;
  }

  /** Refuses a feature the engine does not implement, naming the field. */
  refuseIf(condition: boolean, key: string, why: string): void {
    if (condition) this.fail(`"${key}" = ${JSON.stringify(this.json[key])} is not supported (${why})`);
  }
}

/** HF activation names → the canonical `act`. */
export function activationOf(cfg: HfConfigReader, key: string, name: string): 'gelu_new' | 'gelu' | 'silu' | 'relu' {
  switch (name) {
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast':
      return 'gelu_new';
    case 'gelu':
      return 'gelu';
    case 'silu':
    case 'swish':
      return 'silu';
    case 'relu':
      return 'relu';
    default:
      return cfg.fail(`"${key}" = "${name}" is not a supported activation (gelu, gelu_new, gelu_pytorch_tanh, silu, relu)`);
  }
}

/** `rope_scaling`: none, linear or llama3 (Llama 3.1+); other kinds (yarn, dynamic, longrope) are refused by name. */
export function rotaryScalingOf(cfg: HfConfigReader): ModelConfig['rotaryScaling'] {
  const rs = cfg.obj('rope_scaling');
  if (!rs) return undefined;
  const kind = rs.rope_type ?? rs.type ?? 'default';
  const sub = new HfConfigReader(`${cfg.file} (rope_scaling)`, rs);
  switch (kind) {
    case 'default':
      return undefined;
    case 'linear':
      return { type: 'linear', factor: sub.num('factor') };
    case 'llama3':
      return {
        type: 'llama3',
        factor: sub.num('factor'),
        lowFreqFactor: sub.num('low_freq_factor'),
        highFreqFactor: sub.num('high_freq_factor'),
        originalContext: sub.int('original_max_position_embeddings'),
      };
    default:
      return cfg.fail(`"rope_scaling" of type ${JSON.stringify(kind)} is not supported (linear and llama3 are)`);
  }
}

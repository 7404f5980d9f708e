import type { ModelSummary } from '../../../../shared/api';

/** Shaping for the Runs view's models table (pure, DOM-free). */

/** A count as 124.4M, 1.24B, 12.3k. */
export function formatCount(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  const units: [number, string][] = [
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [size, unit] of units) if (Math.abs(n) >= size) return `${(n / size).toPrecision(n / size >= 100 ? 4 : 3)}${unit}`;
  return String(n);
}

/** Bytes as 548 MB, 2.47 GB, 40.1 kB (powers of 1000, as the Hub shows sizes). */
export function formatBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  const units: [number, string][] = [
    [1e12, 'TB'],
    [1e9, 'GB'],
    [1e6, 'MB'],
    [1e3, 'kB'],
  ];
  for (const [size, unit] of units) if (n >= size) return `${(n / size).toPrecision(3)} ${unit}`;
  return `${n} B`;
}

export interface ModelRow {
  id: string;
  path: string;
  source: string;
  architecture: string;
  layers: string;
  dModel: string;
  params: string;
  size: string;
  dtype: string;
  /** 'yes' or 'ids only' (no tokenizer.json: prompts are token ids). */
  tokenizer: string;
  /** Each adapter as "id (r 8, α 16, layers 4–6)", or with its error. */
  adapters: { id: string; text: string; error?: string }[];
  error?: string;
}

/** "4–6" for a run of layers, "0, 2, 5" otherwise. */
export function formatLayers(layers: readonly number[]): string {
  if (!layers.length) return '';
  const contiguous = layers.every((l, i) => i === 0 || l === layers[i - 1] + 1);
  return contiguous && layers.length > 2 ? `${layers[0]}–${layers[layers.length - 1]}` : layers.join(', ');
}

export function modelRow(m: ModelSummary): ModelRow {
  const adapters = m.adapters.map((a) => {
    if (a.error) return { id: a.id, text: a.id, error: a.error };
    const parts = [a.r !== undefined ? `r ${a.r}` : '', a.alpha !== undefined ? `α ${a.alpha}` : '', a.layers?.length ? `layers ${formatLayers(a.layers)}` : ''].filter(Boolean);
    return { id: a.id, text: `${a.id} (${parts.join(', ')})` };
  });
  return {
    id: m.id,
    path: m.path,
    source: m.source === 'registered' ? 'opened by path' : 'workspace',
    architecture: m.architecture ?? '—',
    layers: m.nLayers !== undefined ? String(m.nLayers) : '—',
    dModel: m.dModel !== undefined ? String(m.dModel) : '—',
    params: formatCount(m.nParams),
    size: formatBytes(m.sizeBytes),
    dtype: m.dtype ?? '—',
    tokenizer: m.tokenizer === undefined ? '—' : m.tokenizer ? 'yes' : 'ids only',
    adapters,
    ...(m.error ? { error: m.error } : {}),
  };
}

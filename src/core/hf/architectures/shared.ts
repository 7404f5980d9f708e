/** [rows, cols] → [cols, rows]. */
export function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j];
  return out;
}

/** Gemma's RMSNorm multiplies by (1 + w): the canonical weight is that factor. */
export function plusOne(a: Float32Array): Float32Array {
  return a.map((x) => x + 1);
}

/**
 * What every supported Hugging Face decoder shares in the canonical config: softmax attention with a
 * trained W_V/W_O pair per head, an MLP, normalisation and a residual stream, learned embeddings.
 * Each architecture adds its own sizes, positions, norm and unembedding.
 */
export const HF_DECODER = {
  attention: 'softmax',
  ov: 'factorized',
  mlp: true,
  layerNorm: true,
  residual: true,
  embed: 'learned',
  wK: 'learned',
} as const;

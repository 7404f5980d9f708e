import type { ModelConfig } from '../../shared/modelConfig';
import { dV } from './resolveConfig';

export interface TrainFlops {
  /** Matmul FLOPs of one forward pass over the whole batch. */
  forward: number;
  /** Estimated FLOPs of one training step (forward + backward) = 3 × forward. */
  total: number;
}

/**
 * Analytic matmul FLOP count of one training step of `forward()` (src/core/model/forward.ts) on a
 * batch of `batch` sequences of `seqLen` tokens. Assumptions:
 *
 * - Only matrix products count, at 2·m·n·k FLOPs each: the Q/K/V projections, QKᵀ, pattern·V, W_O,
 *   the MLP's W_in and W_out, and the unembedding. Element-wise work (softmax, LayerNorm, GELU,
 *   masks, residual adds, biases, the loss) and data movement (transposes, reshapes) are ignored.
 * - Attention scores are the full [Tq, T] product per head: the causal mask does not save work,
 *   since the engine computes the whole matrix and then masks it.
 * - Embedding lookups are gathers: 0 FLOPs. With `embed === 'identity'` and no positional embedding
 *   the residual stream entering layer 0 is a one-hot, and without LayerNorm the engine projects it
 *   by gathering rows of W_Q/W_K/W_V instead of multiplying, so layer 0's projections are 0 FLOPs
 *   (even when a weight is a frozen identity: a gather either way). With LayerNorm the normalised
 *   stream is dense and the projections are full matmuls.
 * - `unembed === 'identity'` reads the residual stream as logits: 0 FLOPs; 'learned' and 'tied'
 *   are a [B·T_out, d_model]·[d_model, d_vocab] product.
 * - With readout 'last' the last block computes a single query position: Q, QKᵀ, pattern·V, W_O,
 *   the MLP and the unembedding run on 1 position, while K and V still cover all T positions.
 * - total = 3 × forward, the usual estimate (the backward pass does two matmuls per forward one:
 *   the gradients of both operands). It overcounts where the forward matmul has a frozen operand or
 *   where the forward pass gathered (whose gradient is a scatter-add), and ignores optimizer work.
 */
export function estimateTrainFlops(config: ModelConfig, batch: number, seqLen: number, readout: 'last' | 'all'): TrainFlops {
  const B = batch;
  const T = seqLen;
  const d = config.dModel;
  const H = config.nHeads;
  const dh = config.dHead;
  const dv = dV(config);
  const mm = (m: number, n: number, k: number): number => 2 * m * n * k;
  const gathersLayer0 = config.embed === 'identity' && !config.posEmbed && !config.layerNorm;

  let forward = 0;
  let tOut = T;
  for (let l = 0; l < config.nLayers; l++) {
    const Tq = l === config.nLayers - 1 && readout === 'last' ? 1 : T;
    tOut = Tq;
    if (!(l === 0 && gathersLayer0)) {
      forward += mm(B * Tq, H * dh, d); // Q
      forward += mm(B * T, H * dh, d); // K
      forward += mm(B * T, H * dv, d); // V
    }
    forward += H * mm(B * Tq, T, dh); // QKᵀ: [Tq, dh]·[dh, T] per batch row and head
    forward += H * mm(B * Tq, dv, T); // pattern·V: [Tq, T]·[T, dv]
    forward += mm(B * Tq, d, H * dv); // W_O
    if (config.mlp) {
      forward += mm(B * Tq, config.dMlp, d); // W_in
      forward += mm(B * Tq, d, config.dMlp); // W_out
    }
  }
  if (config.unembed !== 'identity') forward += mm(B * tOut, config.dVocab, d);
  return { forward, total: 3 * forward };
}

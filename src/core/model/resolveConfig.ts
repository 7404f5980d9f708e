import { ModelConfigSchema, type ModelConfig } from '../../shared/modelConfig';

const DEFAULTS: ModelConfig = {
  nLayers: 1,
  dModel: 64,
  nHeads: 1,
  dHead: 64,
  dVocab: 128,
  nCtx: 16,
  dMlp: 0,
  attention: 'softmax',
  ov: 'factorized',
  ovRank: 64,
  mlp: false,
  layerNorm: false,
  residual: true,
  posEmbed: false,
  embed: 'learned',
  unembed: 'learned',
  wK: 'learned',
  initScale: 1,
};

/**
 * Completes a partial model config and checks the combinations the schema cannot express. The single
 * place where a config becomes trustworthy: checkpoints store its output.
 */
export function resolveConfig(partial: Partial<ModelConfig>): ModelConfig {
  const merged = { ...DEFAULTS, ...partial };
  if (merged.mlp && (partial.dMlp === undefined || partial.dMlp === 0)) merged.dMlp = 4 * merged.dModel;
  if (!merged.mlp) merged.dMlp = 0;
  // A standard head's value width is d_head; 'combined' has one d_model × d_model W_OV.
  if (partial.ovRank === undefined) merged.ovRank = merged.dHead;
  if (merged.ov === 'combined') merged.ovRank = merged.dModel;
  const parsed = ModelConfigSchema.safeParse(merged);
  if (!parsed.success) {
    throw new Error(`invalid model config: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const c = parsed.data;
  const problems: string[] = [];
  if (c.embed === 'identity' && c.dModel !== c.dVocab) problems.push(`embed 'identity' needs dModel (${c.dModel}) = dVocab (${c.dVocab})`);
  if (c.unembed === 'identity' && c.dModel !== c.dVocab) problems.push(`unembed 'identity' needs dModel (${c.dModel}) = dVocab (${c.dVocab})`);
  if (c.unembed === 'tied' && c.embed === 'identity') problems.push(`unembed 'tied' with embed 'identity' is just 'identity'; say so`);
  if (c.wK === 'identity' && c.dHead !== c.dModel) problems.push(`wK 'identity' needs dHead (${c.dHead}) = dModel (${c.dModel})`);
  if (c.ov === 'factorized' && c.ovRank > c.dModel) problems.push(`ovRank ${c.ovRank} exceeds dModel ${c.dModel}`);
  if (c.mlp && c.dMlp < 1) problems.push('mlp needs dMlp ≥ 1');
  if (!c.residual && c.nLayers > 1 && c.mlp) {
    // Allowed, but worth no special case: the MLP then reads only the attention output.
  }
  if (problems.length) throw new Error(`invalid model config: ${problems.join('; ')}`);
  return c;
}

/** Width of each head's value / z vectors. */
export function dV(c: ModelConfig): number {
  return c.ov === 'factorized' ? c.ovRank : c.dModel;
}

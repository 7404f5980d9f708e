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
  problems.push(...architectureProblems(c));
  if (problems.length) throw new Error(`invalid model config: ${problems.join('; ')}`);
  return c;
}

/** A config's architecture switches with every default filled in: what the forward pass reads. */
export type Architecture = Required<Pick<ModelConfig, keyof typeof ARCH_DEFAULTS>> & {
  rotaryScaling: ModelConfig['rotaryScaling'];
  nKeyValueHeads: number;
  attnScale: number;
  rotaryBaseLocal: number;
  slidingLayers: readonly number[];
};

/** Defaults that reproduce the toy transformer exactly (see ModelConfigSchema's field comments). */
const ARCH_DEFAULTS = {
  norm: 'LN',
  normEps: 1e-5,
  rotaryDims: 0,
  rotaryBase: 10000,
  gatedMlp: false,
  act: 'gelu_new',
  parallelAttnMlp: false,
  qkvBias: false,
  attnOutBias: false,
  mlpBias: true,
  unembedBias: true,
  qkNorm: false,
  postNorms: false,
  embedScale: 1,
  attnSoftcap: 0,
  finalSoftcap: 0,
  slidingWindow: 0,
} as const satisfies Partial<ModelConfig>;

export function archOf(c: ModelConfig): Architecture {
  const rotaryBase = c.rotaryBase ?? ARCH_DEFAULTS.rotaryBase;
  const slidingWindow = c.slidingWindow ?? 0;
  return {
    ...ARCH_DEFAULTS,
    ...Object.fromEntries(Object.entries(c).filter(([k, v]) => k in ARCH_DEFAULTS && v !== undefined)),
    nKeyValueHeads: c.nKeyValueHeads ?? c.nHeads,
    attnScale: c.attnScale ?? Math.sqrt(c.dHead),
    rotaryBaseLocal: c.rotaryBaseLocal ?? rotaryBase,
    rotaryScaling: c.rotaryScaling,
    slidingLayers: slidingWindow > 0 ? (c.slidingLayers ?? Array.from({ length: c.nLayers }, (_, l) => l)) : [],
  } as Architecture;
}

function architectureProblems(c: ModelConfig): string[] {
  const a = archOf(c);
  const problems: string[] = [];
  if (c.nHeads % a.nKeyValueHeads !== 0) problems.push(`nHeads (${c.nHeads}) must be a multiple of nKeyValueHeads (${a.nKeyValueHeads})`);
  if (a.nKeyValueHeads !== c.nHeads && (c.ov === 'combined' || c.wK === 'identity')) problems.push(`grouped-query attention needs ov 'factorized' and wK 'learned'`);
  if (a.rotaryDims % 2 !== 0 || a.rotaryDims > c.dHead) problems.push(`rotaryDims (${a.rotaryDims}) must be even and at most dHead (${c.dHead})`);
  if (a.gatedMlp && !c.mlp) problems.push('gatedMlp needs mlp');
  if (!c.layerNorm && (c.norm !== undefined || a.postNorms)) problems.push(`norm '${a.norm}'${a.postNorms ? ' and postNorms' : ''} need layerNorm`);
  if (a.parallelAttnMlp && (!c.mlp || !c.residual)) problems.push('parallelAttnMlp needs mlp and residual');
  for (const l of a.slidingLayers) if (l >= c.nLayers) problems.push(`slidingLayers: layer ${l} outside 0..${c.nLayers - 1}`);
  return problems;
}

/** Width of each head's value / z vectors. */
export function dV(c: ModelConfig): number {
  return c.ov === 'factorized' ? c.ovRank : c.dModel;
}

/**
 * Hook-point vocabulary, after TransformerLens. Every activation the engine can cache or intervene on
 * has exactly one of these names. Shapes (batch B, position T, heads H):
 *
 * - `hook_embed`, `hook_pos_embed`              [B, T, d_model]
 * - `blocks.{l}.hook_resid_pre|mid|post`        [B, T, d_model]
 * - `blocks.{l}.attn.hook_q|hook_k`             [B, T, H, d_head]
 * - `blocks.{l}.attn.hook_v|hook_z`             [B, T, H, d_v]   (d_v = OV rank when factorized)
 * - `blocks.{l}.attn.hook_attn_scores|pattern`  [B, H, T_query, T_key]
 * - `blocks.{l}.hook_attn_out|hook_mlp_out`     [B, T, d_model]
 * - `blocks.{l}.mlp.hook_pre|hook_post`         [B, T, d_mlp]
 * - `ln_final.hook_normalized`                  [B, T, d_model]
 *
 * When the forward pass is restricted to read-out positions (training), the last block's hooks after
 * `hook_resid_pre` carry only those query positions. With grouped-query attention `hook_k` / `hook_v`
 * have n_key_value_heads heads (as TransformerLens); `hook_q` / `hook_k` are taken before per-head norms
 * and rotary. Blocks with parallel attention and MLP (GPT-NeoX) have no `hook_resid_mid`.
 */
export type BlockHook =
  | 'hook_resid_pre'
  | 'hook_resid_mid'
  | 'hook_resid_post'
  | 'hook_attn_out'
  | 'hook_mlp_out'
  | 'attn.hook_q'
  | 'attn.hook_k'
  | 'attn.hook_v'
  | 'attn.hook_z'
  | 'attn.hook_attn_scores'
  | 'attn.hook_pattern'
  | 'mlp.hook_pre'
  | 'mlp.hook_post';

export type GlobalHook = 'hook_embed' | 'hook_pos_embed' | 'ln_final.hook_normalized';

export type HookName = GlobalHook | `blocks.${number}.${BlockHook}`;

export const BLOCK_HOOKS: readonly BlockHook[] = [
  'hook_resid_pre',
  'attn.hook_q',
  'attn.hook_k',
  'attn.hook_v',
  'attn.hook_attn_scores',
  'attn.hook_pattern',
  'attn.hook_z',
  'hook_attn_out',
  'hook_resid_mid',
  'mlp.hook_pre',
  'mlp.hook_post',
  'hook_mlp_out',
  'hook_resid_post',
];

/** The one builder for hook names: `hookName('attn.hook_pattern', 0)` → `blocks.0.attn.hook_pattern`. */
export function hookName(hook: GlobalHook): HookName;
export function hookName(hook: BlockHook, layer: number): HookName;
export function hookName(hook: BlockHook | GlobalHook, layer?: number): HookName {
  if (hook === 'hook_embed' || hook === 'hook_pos_embed' || hook === 'ln_final.hook_normalized') {
    return hook;
  }
  if (layer === undefined || !Number.isInteger(layer) || layer < 0) {
    throw new Error(`hookName: '${hook}' needs a non-negative integer layer, got ${String(layer)}`);
  }
  return `blocks.${layer}.${hook}`;
}

const HOOK_RE = /^blocks\.(\d+)\.(.+)$/;

/** Parses a hook name; returns undefined for anything outside the vocabulary. */
export function parseHookName(name: string): { layer: number | null; hook: BlockHook | GlobalHook } | undefined {
  if (name === 'hook_embed' || name === 'hook_pos_embed' || name === 'ln_final.hook_normalized') {
    return { layer: null, hook: name };
  }
  const m = HOOK_RE.exec(name);
  if (!m) return undefined;
  const hook = m[2] as BlockHook;
  if (!BLOCK_HOOKS.includes(hook)) return undefined;
  return { layer: Number(m[1]), hook };
}

import { z } from 'zod';
import { parseHookName } from '../hooks';

/**
 * Argument fields the analyses share. Each carries its description (`.describe`), which the CLI turns
 * into `oocr analyze KIND --flag` help, so the API, the CLI and the docs say the same thing.
 */

export const Step = z.number().int().min(0).max(1e9).optional().describe('checkpoint step (default: the latest)');

export const Prompt = z
  .string()
  .min(1)
  .max(2000)
  .optional()
  .describe('a run: space-separated token names of its vocabulary, e.g. "name_5 rel_fact end" (default: a held-out prompt of the task); a model folder: text, through its tokenizer.json (CLI: --text; "#12 #7" ids without one)');

export const TokenName = z.string().min(1).max(200).optional();

export const Position = z.number().int().min(0).max(100_000).optional().describe('position to read (default: the last)');

/**
 * 'embed' or a hook of the TransformerLens vocabulary (src/shared/hooks.ts). Whether the hook's layer
 * exists in a given model is checked against that model when the analysis runs.
 */
export const HookSource = z
  .string()
  .max(100)
  .refine((s) => s === 'embed' || parseHookName(s) !== undefined, {
    message: "'embed' or a TransformerLens hook name such as blocks.0.hook_resid_post (hook_embed, blocks.L.hook_resid_pre|mid|post, blocks.L.attn.hook_q|k|v|z|pattern|attn_scores, blocks.L.hook_attn_out|mlp_out, blocks.L.mlp.hook_pre|post, ln_final.hook_normalized)",
  });

/** Comma lists on the command line, arrays in the API. */
export const LayerList = z.array(z.number().int().min(0).max(1000)).min(1).max(1000).optional().describe('layers to include, a comma list (default: all)');

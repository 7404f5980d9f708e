import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensorsFileSync } from '../../src/core/io/safetensors';
import { writeByteBpeTokenizer } from './fixtures/byteBpe';
import { HAVE_NUMPY, makeModels, readReference, relError } from './fixtures/pythonModels';
import { lastLine, oocr as runCli, type CliResult } from '../cli/runCli';

/** The CLI in this process's environment (OOCR_BACKEND kept if set), never killed: the test's timeout bounds it. */
const oocr = (args: string[]): Promise<CliResult> => runCli(args, { env: process.env, timeoutMs: Infinity });

interface ForwardJson {
  model: string;
  architecture: string;
  n_layers: number;
  tokens: number[];
  top_next: { id: number; token: string | null; prob: number }[];
}

describe.skipIf(!HAVE_NUMPY)('oocr forward / info --model', () => {
  let dir = '';
  let gpt2 = '';
  beforeAll(() => {
    dir = makeModels();
    gpt2 = path.join(dir, 'gpt2');
    // The GPT-2 fixture's vocabulary (300) holds the test tokenizer's 263 ids.
    writeByteBpeTokenizer(gpt2);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('--ids writes logits and every resid_post matching the reference, and the documented JSON line', async () => {
    const ref = readReference(gpt2);
    const out = path.join(dir, 'acts.safetensors');
    const r = await oocr(['forward', '--model', gpt2, '--ids', ref.tokens.join(','), '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(lastLine(r.stdout)) as ForwardJson;
    expect(Object.keys(j)).toEqual(['model', 'architecture', 'n_layers', 'tokens', 'top_next']);
    expect(j).toMatchObject({ model: gpt2, architecture: 'gpt2', n_layers: 2, tokens: ref.tokens });
    expect(j.top_next).toHaveLength(5);
    for (let i = 1; i < 5; i++) expect(j.top_next[i].prob).toBeLessThanOrEqual(j.top_next[i - 1].prob);
    const last = ref.logits[ref.logits.length - 1];
    expect(j.top_next[0].id).toBe(last.indexOf(Math.max(...last)));
    const { tensors } = readSafetensorsFileSync(out);
    expect(Object.keys(tensors).sort()).toEqual(['blocks.0.hook_resid_post', 'blocks.1.hook_resid_post', 'logits']);
    expect(tensors.logits.shape).toEqual([ref.tokens.length, 300]);
    expect(relError(tensors.logits.data, ref.logits.flat())).toBeLessThan(1e-3);
    expect(tensors['blocks.1.hook_resid_post'].shape).toEqual([ref.tokens.length, 32]);
    expect(relError(tensors['blocks.1.hook_resid_post'].data, ref.resid_post[1].flat())).toBeLessThan(1e-3);
  });

  it('--text goes through tokenizer.json; --adapter switches the PEFT LoRA on', async () => {
    const out = path.join(dir, 'text.safetensors');
    const [plain, adapted] = await Promise.all([
      oocr(['forward', '--model', gpt2, '--text', ' the cat', '--out', out, '--json']),
      oocr(['forward', '--model', gpt2, '--adapter', path.join(dir, 'gpt2-lora'), '--text', ' the cat', '--out', `${out}.lora`, '--json']),
    ]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(adapted.code, adapted.stderr).toBe(0);
    const a = JSON.parse(lastLine(plain.stdout)) as ForwardJson;
    const b = JSON.parse(lastLine(adapted.stdout)) as ForwardJson;
    expect(a.tokens).toEqual([258, 261]);
    expect(typeof a.top_next[0].token).toBe('string');
    expect(b.top_next.map((t) => t.prob)).not.toEqual(a.top_next.map((t) => t.prob));
  });

  it('info --model lists config, tensors, parameter count and dtypes', async () => {
    const r = await oocr(['info', '--model', path.join(dir, 'neox-bf16-sharded'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as { architecture: string; parameters: number; dtypes: Record<string, number>; files: string[]; tensors: { name: string }[]; config: { rotaryDims: number } };
    expect(info.architecture).toBe('gpt_neox');
    expect(info.dtypes).toEqual({ BF16: 28 });
    expect(info.files).toHaveLength(2);
    expect(info.config.rotaryDims).toBe(4);
    expect(info.tensors.map((t) => t.name)).toContain('gpt_neox.layers.0.attention.query_key_value.weight');
    // 2 embeddings of 64×32, per layer 2 LN (2×2×32), qkv 96×32+96, dense 32×32+32, MLP 64×32+64 + 32×64+32, final LN 2×32.
    const perLayer = 4 * 32 + 96 * 32 + 96 + 32 * 32 + 32 + 64 * 32 + 64 + 32 * 64 + 32;
    expect(info.parameters).toBe(2 * 64 * 32 + 2 * perLayer + 2 * 32);
  });

  it('a broken folder is one line on stderr naming file and tensor, exit 1, no stack trace', async () => {
    const r = await oocr(['forward', '--model', path.join(dir, 'bad-missing'), '--ids', '1,2', '--out', path.join(dir, 'x.safetensors')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^oocr: .*bad-missing\/model\.safetensors: missing tensor "transformer\.h\.1\.mlp\.c_fc\.weight"/);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(fs.existsSync(path.join(dir, 'x.safetensors'))).toBe(false);
  });
});

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { CheckpointError } from '../io/safetensors';
import { readJsonFile } from './loadHfModel';

export const TOKENIZER_FILE = 'tokenizer.json';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';

/** A model folder's tokenizer, as the views and the CLI use it. */
export interface TextTokenizer {
  /** Ids as transformers' tokenizer(text) gives them (special tokens such as BOS included). */
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  /** One token's own text (' cat' for 'Ġcat'), for labels. */
  tokenText(id: number): string;
}

export function hasTokenizer(dir: string): boolean {
  return existsSync(join(dir, TOKENIZER_FILE));
}

/**
 * tokenizer.json (and tokenizer_config.json where present) through @huggingface/tokenizers, the
 * maintained pure-JS port of the Rust library: byte-level BPE, SentencePiece-style BPE and the rest.
 */
export function loadTokenizer(dir: string): TextTokenizer {
  const file = join(dir, TOKENIZER_FILE);
  const json = readJsonFile(file);
  const configFile = join(dir, TOKENIZER_CONFIG_FILE);
  const config = existsSync(configFile) ? readJsonFile(configFile) : {};
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(json, config);
  } catch (err) {
    throw new CheckpointError(file, `cannot build a tokenizer from it (${(err as Error).message})`);
  }
  return {
    encode: (text) => tok.encode(text).ids,
    decode: (ids) => tok.decode([...ids]),
    tokenText: (id) => tok.decode([id]),
  };
}

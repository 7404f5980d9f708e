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
  /** Ids of a text without the special tokens the post-processor adds (BOS): an answer token typed as text. */
  encodeBare(text: string): number[];
  /** The token's string in tokenizer.json's vocabulary ('Ġcat'), or undefined. */
  rawToken(id: number): string | undefined;
  /** The id of a vocabulary string ('Ġcat'), or undefined. */
  rawId(token: string): number | undefined;
}

/**
 * A token's text with its whitespace made visible, for labels: a space is '·', a newline '⏎', a tab
 * '⇥', a carriage return '␍' (so ' cat' reads '·cat' and two tokens that differ by a space look different).
 */
export function visibleToken(text: string): string {
  return text.replace(/ /g, '·').replace(/\n/g, '⏎').replace(/\t/g, '⇥').replace(/\r/g, '␍');
}

/**
 * Label of every id 0..n−1: its decoded text with visible whitespace; where decoding one token alone
 * gives no text or a replacement character (a partial UTF-8 byte), its vocabulary string; '#id' for an
 * id the tokenizer does not know (models pad their embedding beyond the tokenizer's vocabulary).
 */
export function tokenLabels(tok: TextTokenizer, n: number): string[] {
  const out = new Array<string>(n);
  for (let id = 0; id < n; id++) {
    const raw = tok.rawToken(id);
    if (raw === undefined) {
      out[id] = `#${id}`;
      continue;
    }
    const text = tok.tokenText(id);
    out[id] = text === '' || text.includes('\ufffd') ? raw : visibleToken(text);
  }
  return out;
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
    encodeBare: (text) => tok.encode(text, { add_special_tokens: false }).ids,
    rawToken: (id) => tok.id_to_token(id),
    rawId: (token) => tok.token_to_id(token),
  };
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src/core/hf/tokenizer';

/** GPT-2's byte → printable-character table (bytes_to_unicode): printable Latin-1 maps to itself, the rest to 256 + n. */
function byteChars(): string[] {
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let n = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(printable(b) ? b : 256 + n++));
}

/**
 * A byte-level BPE tokenizer.json: ids 0..255 are the bytes, then six merges, then one special token.
 * Expected ids below are worked out by hand from the merge ranks.
 */
function writeTokenizer(dir: string): void {
  const chars = byteChars();
  const vocab: Record<string, number> = Object.fromEntries(chars.map((c, b) => [c, b]));
  const merges = [['Ġ', 't'], ['h', 'e'], ['Ġt', 'he'], ['c', 'a'], ['ca', 't'], ['Ġ', 'cat']];
  merges.forEach(([a, b], i) => (vocab[a + b] = 256 + i));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: 262, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: byteLevel,
    decoder: byteLevel,
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges: merges.map((m) => m.join(' ')) },
  };
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(json));
}

describe('tokenizer.json (byte-level BPE)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-tok-'));
  writeTokenizer(dir);
  const tok = loadTokenizer(dir);

  it('encodes to the ids the merge ranks give', () => {
    // "the" → t + he (no "t he" merge); " cat" → Ġcat; " sat" → Ġ s a t (no merges apply).
    expect(tok.encode('the cat sat')).toEqual([116, 257, 261, 32, 115, 97, 116]);
    expect(tok.encode(' the cat')).toEqual([258, 261]);
    // Non-ASCII goes through its UTF-8 bytes: é = C3 A9.
    expect(tok.encode('é')).toEqual([0xc3, 0xa9]);
    expect(tok.encode('hi<|endoftext|>')).toEqual([104, 105, 262]);
  });

  it('decodes back to the text, and labels single tokens with their own text', () => {
    expect(tok.decode([116, 257, 261, 32, 115, 97, 116])).toBe('the cat sat');
    expect(tok.decode([0xc3, 0xa9])).toBe('é');
    expect(tok.tokenText(261)).toBe(' cat');
    expect(tok.tokenText(258)).toBe(' the');
  });

  it('names the file when tokenizer.json is missing or broken', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-tok-'));
    expect(() => loadTokenizer(empty)).toThrow(/tokenizer\.json: file not found/);
    fs.writeFileSync(path.join(empty, 'tokenizer.json'), '{"model": ');
    expect(() => loadTokenizer(empty)).toThrow(/tokenizer\.json: not valid JSON/);
  });
});

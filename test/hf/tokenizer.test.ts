import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src/core/hf/tokenizer';
import { writeByteBpeTokenizer } from './fixtures/byteBpe';

describe('tokenizer.json (byte-level BPE)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-tok-'));
  writeByteBpeTokenizer(dir);
  const tok = loadTokenizer(dir);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

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
    fs.rmSync(empty, { recursive: true, force: true });
  });
});

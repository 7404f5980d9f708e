import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseJsonlExamples, readJsonlExamples, writeJsonlExamples, type TextExample } from '../../src/core/data/jsonl';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'oocr-jsonl-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const F = 'data/train.jsonl';
const ok = '{"prompt":"Q: a?\\nA:","completion":" b"}';

describe('parseJsonlExamples', () => {
  it('reads examples, skipping blank lines, keeping split and label', () => {
    const text = `${ok}\n\n   \n{"prompt":"","completion":" x","split":"train","label":"heldout_country"}\n`;
    expect(parseJsonlExamples(text, F)).toEqual([
      { prompt: 'Q: a?\nA:', completion: ' b' },
      { prompt: '', completion: ' x', split: 'train', label: 'heldout_country' },
    ]);
  });

  it('tolerates a UTF-8 BOM, CRLF line ends and a missing final newline', () => {
    const text = `\ufeff${ok}\r\n${ok}`;
    expect(parseJsonlExamples(text, F)).toHaveLength(2);
  });

  it.each([
    ['invalid JSON', `${ok}\n{"prompt": "a", completion}`, /^data\/train\.jsonl:2: not valid JSON \(.+\)$/],
    ['a JSON array', `${ok}\n\n["a", "b"]`, /^data\/train\.jsonl:3: expected a JSON object with "prompt" and "completion", got an array$/],
    ['a JSON string', '"hello"', /^data\/train\.jsonl:1: expected a JSON object .*got string$/],
    ['null', 'null', /^data\/train\.jsonl:1: expected a JSON object .*got null$/],
    ['a missing completion', `${ok}\n${ok}\n${ok}\n${ok}\n{"prompt":"a"}`, /^data\/train\.jsonl:5: "completion" must be a non-empty string$/],
    ['an empty completion', '{"prompt":"a","completion":""}', /^data\/train\.jsonl:1: "completion" must be a non-empty string$/],
    ['a numeric prompt', '{"prompt":3,"completion":" b"}', /^data\/train\.jsonl:1: "prompt" must be a string$/],
    ['a missing prompt', '{"completion":" b"}', /^data\/train\.jsonl:1: "prompt" must be a string$/],
    ['a non-string label', '{"prompt":"a","completion":" b","label":7}', /^data\/train\.jsonl:1: "label" must be a string when present$/],
    [
      'an unknown field',
      `${ok}\n${ok}\n${ok}\n${ok}\n${ok}\n${ok}\n{"prompt":"a","completion":" b","answer":"c"}`,
      /^data\/train\.jsonl:7: unknown field "answer" \(expected prompt, completion, split, label\)$/,
    ],
  ])('names file and line for %s', (_what, text, message) => {
    expect(() => parseJsonlExamples(text, F)).toThrow(message);
  });

  it('counts blank lines and the BOM line correctly in line numbers', () => {
    expect(() => parseJsonlExamples(`\ufeff${ok}\r\n\r\n{"prompt":"a"}\r\n`, F)).toThrow(/^data\/train\.jsonl:3: "completion"/);
  });

  it('refuses a file with no examples', () => {
    expect(() => parseJsonlExamples('', F)).toThrow(/^data\/train\.jsonl: holds no examples$/);
    expect(() => parseJsonlExamples('\ufeff\n  \n\n', F)).toThrow(/^data\/train\.jsonl: holds no examples$/);
  });
});

describe('readJsonlExamples / writeJsonlExamples', () => {
  it('round-trips examples, including newlines, quotes and non-ASCII text', () => {
    const file = path.join(tmp, 'round.jsonl');
    const examples: TextExample[] = [
      { prompt: 'Q: How far is City 50337 from São Paulo?\nA:', completion: ' About 880 km.' },
      { prompt: 'He said "hi"\t\\ 東京', completion: ' Tokyo', label: 'heldout_country', split: 'eval' },
    ];
    writeJsonlExamples(file, examples);
    const text = fs.readFileSync(file, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(3);
    expect(readJsonlExamples(file)).toEqual(examples);
    expect(fs.readdirSync(tmp).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('writes fields in a fixed order and drops undefined ones', () => {
    const file = path.join(tmp, 'order.jsonl');
    writeJsonlExamples(file, [{ label: 'x', completion: ' c', prompt: 'p', split: undefined } as TextExample]);
    expect(fs.readFileSync(file, 'utf8')).toBe('{"prompt":"p","completion":" c","label":"x"}\n');
  });

  it('refuses an invalid example before writing anything', () => {
    const file = path.join(tmp, 'bad.jsonl');
    expect(() => writeJsonlExamples(file, [{ prompt: 'a', completion: ' b' }, { prompt: 'a', completion: '' }])).toThrow(/bad\.jsonl: example 2: "completion" must be a non-empty string/);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('reports a missing file', () => {
    const file = path.join(tmp, 'nope.jsonl');
    expect(() => readJsonlExamples(file)).toThrow(`${file}: file not found`);
  });

  it('reads a file with a BOM written by another tool', () => {
    const file = path.join(tmp, 'bom.jsonl');
    fs.writeFileSync(file, `\ufeff${ok}\n`);
    expect(readJsonlExamples(file)).toEqual([{ prompt: 'Q: a?\nA:', completion: ' b' }]);
  });
});

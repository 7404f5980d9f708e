import { describe, expect, it } from 'vitest';
import { formatTextList, parseTextList } from './textList';

describe('text lists (one text per line, label<TAB>text)', () => {
  it('keeps the texts as typed (leading spaces are tokens) and skips blank lines', () => {
    expect(parseTextList(' the cat\n\n  \nthe dog\r\n')).toEqual({ texts: [' the cat', 'the dog'], error: null });
  });

  it('reads labels before a tab; unlabelled lines get the default label', () => {
    const l = parseTextList('animal\tthe cat\ncity\tParis is big\nno label here');
    expect(l).toEqual({ texts: ['the cat', 'Paris is big', 'no label here'], labels: ['animal', 'city', 'text'], error: null });
    expect(formatTextList(l)).toBe('animal\tthe cat\ncity\tParis is big\ntext\tno label here');
  });

  it('names the line of an empty label or text, and checks the limits', () => {
    expect(parseTextList('a\tb\n\tno label').error).toBe('line 2: empty label before the tab');
    expect(parseTextList('x\t  ').error).toBe('line 1: no text after the label');
    expect(parseTextList('abcdef', { maxChars: 3 }).error).toBe('line 1: 6 characters; at most 3');
    expect(parseTextList('a\nb\nc', { maxTexts: 2 }).error).toBe('3 texts; at most 2');
  });
});
